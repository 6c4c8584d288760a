-- +goose Up
-- A carrier whose receipts outlive the process (SMPP: the SMSC sends them
-- again after a restart) names a delivery by the id it gave it; the
-- delivery worker finds the delivery by that id.
CREATE INDEX deliveries_carrier_id ON deliveries (carrier_id) WHERE carrier_id <> '';

-- +goose Down
DROP INDEX deliveries_carrier_id;
