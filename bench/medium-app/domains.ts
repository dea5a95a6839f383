import { FIELD_KINDS, type FieldKind } from './fields.js';

/** One kind of business record: a model struct, an engine policy and an app worker. */
export interface Domain {
  /** snake_case module name. */
  readonly module: string;
  /** PascalCase type name. */
  readonly type: string;
  readonly statuses: readonly string[];
  readonly fields: readonly FieldKind[];
  /** Items per batch and batch period factor: domains differ in how busy they are. */
  readonly batchSize: number;
}

const NAMES = [
  'order', 'shipment', 'invoice', 'supplier', 'customer', 'product', 'warehouse', 'pallet',
  'carrier', 'route', 'return_request', 'payment', 'refund', 'discount', 'stock_count', 'purchase_order',
  'employee', 'shift', 'audit_entry', 'complaint', 'forecast', 'contract', 'tariff', 'inspection',
  'container', 'customs_form',
];

/** Lifecycles; the last status of each is terminal. */
const LIFECYCLES: ReadonlyArray<readonly string[]> = [
  ['Draft', 'Submitted', 'Approved', 'Closed'],
  ['Pending', 'Picked', 'InTransit', 'Delivered'],
  ['Open', 'Reviewed', 'Settled'],
  ['New', 'Active', 'Suspended', 'Retired'],
  ['Planned', 'Scheduled', 'Running', 'Finished', 'Archived'],
];

export function pascal(snake: string): string {
  return snake
    .split('_')
    .map((part) => part[0]!.toUpperCase() + part.slice(1))
    .join('');
}

/**
 * The fixed set of domains. Each takes five of the field kinds, chosen by
 * stepping through the list with a stride that differs by domain, so the
 * records differ in shape the way real ones do.
 */
export function domains(): Domain[] {
  return NAMES.map((module, index) => {
    const fields: FieldKind[] = [];
    const stride = [1, 3, 7][index % 3]!;
    for (let step = 0; fields.length < 5; step++) {
      const kind = FIELD_KINDS[(index + step * stride) % FIELD_KINDS.length]!;
      if (!fields.includes(kind)) fields.push(kind);
    }
    // Keep the declaration order stable (the kinds' order), whatever the stride picked.
    fields.sort((a, b) => FIELD_KINDS.indexOf(a) - FIELD_KINDS.indexOf(b));
    return { module, type: pascal(module), statuses: LIFECYCLES[index % LIFECYCLES.length]!, fields, batchSize: 2 + (index % 4) };
  });
}
