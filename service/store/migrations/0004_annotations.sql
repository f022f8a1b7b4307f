-- Each claim's annotation (service/judge/annotate.py: spaCy entities, quantities, times and
-- predicate frames), made once at ingest, and the annotation version it was made with.
-- Claims stored before this migration keep NULL / version 0 until `factcheck reindex`
-- annotates them; until then a check annotates them itself.
ALTER TABLE claims
    ADD COLUMN annotation jsonb,
    ADD COLUMN annotation_version integer NOT NULL DEFAULT 0;
CREATE INDEX claims_annotation_version ON claims (annotation_version);
