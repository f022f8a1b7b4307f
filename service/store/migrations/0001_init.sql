-- The PostgreSQL store's first schema: documents, their audit trail, claims with their
-- vectors (pgvector) and a generated tsvector for the lexical search.
-- The vector column gets its dimension, and its HNSW index, when the store records the
-- embedding model (service/store/postgres.py): the dimension belongs to the model, not
-- to the schema.
CREATE EXTENSION IF NOT EXISTS vector;

-- One row: the change counter every write bumps in its own transaction, and the model
-- the vectors come from (NULL until the first start records it).
CREATE TABLE store_state (
    id boolean PRIMARY KEY DEFAULT true CHECK (id),
    index_version bigint NOT NULL DEFAULT 0,
    embedding_model text,
    embedding_dimension integer,
    embedding_normalized boolean
);
INSERT INTO store_state DEFAULT VALUES;

CREATE TABLE documents (
    id text PRIMARY KEY,
    title text NOT NULL,
    text text NOT NULL,
    url text,
    source text,
    published_at text,
    published_date date,
    language text NOT NULL,
    metadata jsonb NOT NULL,
    content_hash text NOT NULL,
    status text NOT NULL CHECK (status IN ('active', 'corrected', 'retracted')),
    version integer NOT NULL,
    created_at text NOT NULL,
    updated_at text NOT NULL,
    retraction_reason text
);
CREATE INDEX documents_source ON documents (source);
CREATE INDEX documents_published ON documents (published_date DESC, id);

CREATE TABLE document_versions (
    document_id text NOT NULL,
    version integer NOT NULL,
    title text NOT NULL,
    text text NOT NULL,
    published_at text,
    replaced_at text NOT NULL,
    PRIMARY KEY (document_id, version)
);

CREATE TABLE claims (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    document_id text NOT NULL REFERENCES documents (id) ON DELETE CASCADE,
    seq integer NOT NULL,
    text text NOT NULL,
    start integer NOT NULL,
    "end" integer NOT NULL,
    context text NOT NULL,
    -- false once the document is retracted: the vector index only holds searchable claims
    searchable boolean NOT NULL DEFAULT true,
    embedding vector NOT NULL,
    tsv tsvector GENERATED ALWAYS AS (to_tsvector('english', text)) STORED
);
CREATE INDEX claims_document ON claims (document_id, seq);
CREATE INDEX claims_tsv ON claims USING gin (tsv) WHERE searchable;
