/** What a subscriber received against what was published, for "nothing lost, nothing repeated, in order". */

export interface DeliveryFaults {
  /** Published payloads never received. */
  readonly missing: readonly string[];
  /** Payloads received more than once (each extra copy listed). */
  readonly repeated: readonly string[];
  /** Received exactly the published sequence. */
  readonly inOrder: boolean;
}

export const NO_DELIVERY_FAULTS: DeliveryFaults = { missing: [], repeated: [], inOrder: true };

/** Compare with `toEqual(NO_DELIVERY_FAULTS)`: a failure then names what was lost or repeated. */
export function deliveryFaults(got: readonly string[], expected: readonly string[]): DeliveryFaults {
  return {
    missing: expected.filter((e) => !got.includes(e)),
    repeated: got.filter((e, i) => got.indexOf(e) !== i),
    inOrder: got.join() === expected.join(),
  };
}
