-- +goose Up
-- Routing is decided once, when a message is sent: an internal delivery
-- names the mailboxes that get its inbound copy ("account:extension",
-- comma-separated; empty: none, such as a department without other
-- members), so the delivery worker looks nothing up in the directory.
ALTER TABLE deliveries ADD COLUMN mailboxes TEXT NOT NULL DEFAULT '';

-- Internal deliveries still waiting were routed by the worker before: route
-- them now as the send would have (never to the sender's own mailbox).
UPDATE deliveries SET mailboxes = COALESCE((
    SELECT p.account_id || ':' || p.extension_id FROM phone_numbers p
    WHERE p.phone_number = deliveries.recipient AND p.extension_id IS NOT NULL
      AND p.extension_id <> deliveries.extension_id), '')
WHERE internal = 1 AND state = 'Pending' AND type <> 'Pager';

UPDATE deliveries SET mailboxes = COALESCE((
    SELECT CASE
        WHEN x.type = 'Department' THEN (
            SELECT group_concat(m.account_id || ':' || m.id, ',') FROM extensions m
            JOIN department_members dm ON dm.extension_id = m.id
            WHERE dm.department_id = x.id AND m.type = 'User' AND m.id <> deliveries.extension_id)
        WHEN x.id = deliveries.extension_id THEN ''
        ELSE x.account_id || ':' || x.id END
    FROM extensions x WHERE x.account_id = deliveries.account_id AND x.extension_number = deliveries.recipient), '')
WHERE internal = 1 AND state = 'Pending' AND type = 'Pager';

-- +goose Down
ALTER TABLE deliveries DROP COLUMN mailboxes;
