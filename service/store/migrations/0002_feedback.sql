-- Editors' judgements on evidence links (the panel's accept/reject). No foreign key:
-- a judgement outlives the claim it was made on, which dies when its document is replaced.
CREATE TABLE feedback (
    id bigserial PRIMARY KEY,
    statement text NOT NULL,
    claim_id bigint NOT NULL,
    document_id text NOT NULL,
    evidence_text text NOT NULL,
    judgement text NOT NULL CHECK (judgement IN ('accept', 'reject')),
    stance text,
    editor_id text,
    comment text NOT NULL,
    created_at text NOT NULL
);
