-- One subtest's responses of a session, in order, without reading the whole session's log
-- (RecordResponse and GetNextItem replay only the subtest concerned).
CREATE INDEX responses_session_subtest ON responses (session_id, subtest, seq);
