/** The quota read models' names: the decisions projection's collections and the projections routes wait for. */

/** Reservations on each quota they hold (for release, expiry and GET .../quota-checks/:id). */
export const RESERVATIONS = 'quota_reservations';
/** Every refused check, with the figures at that moment (the audit). */
export const REFUSALS = 'quota_refusals';
/** Warnings and breaches, once per threshold (or breach) per quota and period. */
export const ALERTS = 'quota_alerts';

/** The projections the quota routes wait for with ?minPosition= (ReadsProjections). */
export const QUOTA_USAGE_PROJECTION = 'quota-usage';
export const QUOTA_DECISIONS_PROJECTION = 'quota-decisions';
export const QUOTA_ALERTS_RELAY = 'quota-alerts';
