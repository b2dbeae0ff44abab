/** The error of class `kind` that `promise` rejects with; fails the test on any other outcome. */
export async function rejection<E extends Error>(
  promise: Promise<unknown>,
  kind: { name: string; isInstance(value: unknown): value is E },
): Promise<E> {
  try {
    await promise;
  } catch (error) {
    if (kind.isInstance(error)) return error;
    throw error;
  }
  throw new Error(`expected ${kind.name}, the promise resolved`);
}
