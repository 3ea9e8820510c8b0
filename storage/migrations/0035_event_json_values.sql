-- events.agenda and events.raw were written as JSON text inside jsonb (a string holding
-- the document, storage/events.py encoded once more than the connection's codec does):
-- they become the arrays and objects they always meant, so SQL can look inside them.
UPDATE events SET agenda = (agenda #>> '{}')::jsonb WHERE jsonb_typeof(agenda) = 'string';
UPDATE events SET raw = (raw #>> '{}')::jsonb WHERE jsonb_typeof(raw) = 'string';
