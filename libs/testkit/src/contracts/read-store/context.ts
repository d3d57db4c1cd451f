import { Document, Filter, ReadStore, SortSpec } from '@purser/core';
import { uniqueSuffix } from '../../engines';

/** What every part of the read-store contract shares: the store (opened by the suite) and small helpers. */
export interface ReadStoreContractContext {
  /** The store under test; valid inside tests and hooks (opened in the suite's beforeAll). */
  store(): ReadStore;
  /** A fresh collection name (valid: letters, digits and _). */
  fresh(tag: string): string;
  ids(docs: Document[]): string[];
  /** Reads every page and returns all items, checking that no page is larger than the limit. */
  readAll(
    collection: string,
    filter: Filter,
    sort: SortSpec | undefined,
    limit: number,
  ): Promise<{ all: Document[]; pages: number }>;
}

export function readStoreContractContext(store: () => ReadStore): ReadStoreContractContext {
  return {
    store,
    fresh: (tag: string) => `rs_${tag}_${uniqueSuffix()}`,
    ids: (docs: Document[]) => docs.map((d) => d._id),
    async readAll(collection: string, filter: Filter, sort: SortSpec | undefined, limit: number) {
      const all: Document[] = [];
      let cursor: string | null = null;
      let pages = 0;
      do {
        const page: { items: Document[]; nextCursor: string | null } = await store().find(
          collection,
          filter,
          {
            sort,
            limit,
            cursor,
          },
        );
        expect(page.items.length).toBeLessThanOrEqual(limit);
        all.push(...page.items);
        cursor = page.nextCursor;
        pages++;
        if (pages > 1000) throw new Error('paging does not end');
      } while (cursor);
      return { all, pages };
    },
  };
}
