// In-memory storage for the reference service's resources. It stands in for Scanopy's database;
// records are copied in and out so callers can never mutate what is stored.
import { randomUUID } from 'node:crypto';

export const RESOURCE_NAMES = ['hosts', 'networks', 'subnets', 'services'] as const;
export type ResourceName = (typeof RESOURCE_NAMES)[number];

/** The caller-supplied fields of a record (already validated by the routes). */
export interface RecordFields {
  name: string;
  [field: string]: string;
}

/** A stored record: the fields plus what the store assigns. */
export interface StoredRecord extends RecordFields {
  id: string;
  created_at: string;
  updated_at: string;
}

export class Collection {
  private readonly records = new Map<string, StoredRecord>();

  /** All records, oldest first. */
  list(): StoredRecord[] {
    return [...this.records.values()].map((record) => ({ ...record }));
  }

  get(id: string): StoredRecord | undefined {
    const record = this.records.get(id);
    return record === undefined ? undefined : { ...record };
  }

  create(fields: RecordFields): StoredRecord {
    const now = new Date().toISOString();
    const record: StoredRecord = { ...fields, id: randomUUID(), created_at: now, updated_at: now };
    this.records.set(record.id, record);
    return { ...record };
  }

  /** Replaces the fields of a record (PUT semantics); undefined when the id is unknown. */
  update(id: string, fields: RecordFields): StoredRecord | undefined {
    const existing = this.records.get(id);
    if (existing === undefined) return undefined;
    const record: StoredRecord = {
      ...fields,
      id,
      created_at: existing.created_at,
      updated_at: new Date().toISOString(),
    };
    this.records.set(id, record);
    return { ...record };
  }

  /** Returns whether a record was deleted. */
  delete(id: string): boolean {
    return this.records.delete(id);
  }
}

export type Store = Record<ResourceName, Collection>;

export function createStore(): Store {
  return {
    hosts: new Collection(),
    networks: new Collection(),
    subnets: new Collection(),
    services: new Collection(),
  };
}
