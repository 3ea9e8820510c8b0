"""Federation: our rows as ActivityPub documents, outbound fan-out, inbound handlers."""
