// Deletion from a linear-probing table without tombstones: after a slot is emptied, each later
// entry of the run moves back into the hole unless that would put it before its home slot.

/** Whether the entry at slot j, whose home slot is `home`, must stay: its home lies cyclically in (hole, j]. */
export function staysAfterHole(home: number, hole: number, j: number): boolean {
  return hole <= j ? home > hole && home <= j : home > hole || home <= j;
}
