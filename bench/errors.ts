// Error messages that say which variant failed, when a round fails.

/** Prefixes the error of `promise`, if any, with `label` (which variant failed). */
export async function labelled<T>(label: string, promise: Promise<T>): Promise<T> {
  try {
    return await promise;
  } catch (error) {
    throw new Error(`${label}: ${error instanceof Error ? error.message : String(error)}`, {
      cause: error,
    });
  }
}
