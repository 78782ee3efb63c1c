/** Condition fragments shared by the store's writes. */
// Expression names used in every condition: #k key, #v value, #e expiry.
export const LIVE = '(attribute_not_exists(#e) OR #e > :now)';
export const ABSENT_OR_EXPIRED = 'attribute_not_exists(#k) OR #e <= :now';
