// A fresh in-memory dynalite per test file: the real DynamoDB API, no mocks.
import { afterAll, beforeAll } from 'vitest';
import { startEmbeddedStore, type EmbeddedStore } from '../../lambda/store/embedded';

/** Starts dynalite before the file's tests and stops it after; read `.current` inside tests. */
export function useEmbeddedStore(): { current: EmbeddedStore } {
  const holder = {} as { current: EmbeddedStore };
  beforeAll(async () => {
    holder.current = await startEmbeddedStore();
  });
  afterAll(async () => {
    await holder.current?.close();
  });
  return holder;
}
