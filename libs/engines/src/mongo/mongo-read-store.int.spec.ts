import mongoose from 'mongoose';
import { describeEngine, uniqueSuffix } from '@purser/testkit';
import { readStoreContract } from '@purser/testkit';
import { MongoReadStore } from './mongo-read-store';

/** The same URL with another database: `mongodb://host:port/<db>?options`. */
function withDatabase(url: string, db: string): string {
  const u = new URL(url);
  u.pathname = `/${db}`;
  return u.toString();
}

describeEngine('MONGODB_URL', 'MongoDB read store contract', (url) => {
  const db = `purser_rs_${uniqueSuffix()}`;
  readStoreContract(
    async () => MongoReadStore.connect(withDatabase(url, db)),
    async (store) => {
      await store.close();
      const conn = await mongoose.createConnection(withDatabase(url, db)).asPromise();
      try {
        await conn.dropDatabase();
      } finally {
        await conn.close();
      }
    },
  );
});
