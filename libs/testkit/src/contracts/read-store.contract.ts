import { ReadStore } from '@purser/core';
import { readStoreContractContext } from './read-store/context';
import { readStoreDocuments } from './read-store/documents';
import { readStoreFind } from './read-store/find';
import { readStoreSorting } from './read-store/sorting';
import { readStoreUpdates } from './read-store/updates';
import { readStoreBulkUpdate } from './read-store/bulk-update';
import { readStoreCollections } from './read-store/collections';

/**
 * The ReadStore contract: every adapter runs this suite (against its real engine). Each test works in its own
 * collections (unique names), so suites and runs may share one database.
 *
 * @param makeStore  opens the store once for the suite
 * @param teardown   replaces the default `store.close()` at the end (e.g. drop a test database, then close)
 */
export function readStoreContract(
  makeStore: () => Promise<ReadStore>,
  teardown?: (store: ReadStore) => Promise<void>,
): void {
  let store: ReadStore;

  beforeAll(async () => {
    store = await makeStore();
  });

  afterAll(async () => {
    if (!store) return;
    if (teardown) await teardown(store);
    else await store.close();
  });

  const ctx = readStoreContractContext(() => store);
  readStoreDocuments(ctx);
  readStoreFind(ctx);
  readStoreSorting(ctx);
  readStoreUpdates(ctx);
  readStoreBulkUpdate(ctx);
  readStoreCollections(ctx);
}
