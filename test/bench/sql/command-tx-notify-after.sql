-- One createTransaction command's writes, as SQL: stream, event, outbox row, projection row.
\set n random(1, 4000000000000000000)
BEGIN;
INSERT INTO es.streams (aggregate_id, aggregate_type, version) VALUES ('tx_pgb' || :n, 'Transaction', 1);
WITH e AS (
  INSERT INTO es.events (id, aggregate_id, aggregate_type, version, type, data, metadata, occurred_at)
  VALUES ('evt_pgb' || :n, 'tx_pgb' || :n, 'Transaction', 1, 'TransactionCreated',
          '{"currency":"EUR","amount":"12.5"}', '{"correlationId":"cmd_pgb","causationId":"cmd_pgb"}', now())
  RETURNING position, aggregate_type, type)
INSERT INTO es.outbox (position, aggregate_type, type) SELECT position, aggregate_type, type FROM e;
INSERT INTO projection.transaction_views (id, version, status, currency, amount, created_at, updated_at)
VALUES ('tx_pgb' || :n, 1, 'PROCESSING', 'EUR', 12.5, now(), now());
COMMIT;
SELECT pg_notify('cairn_events', '');
