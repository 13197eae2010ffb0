package sqlstore

// WriterCheckpoints returns how many checkpoints the SQLite checkpointer has run (0 on PostgreSQL).
func WriterCheckpoints(s *Store) int64 {
	if s.writer == nil {
		return 0
	}
	return s.writer.checkpoints.Load()
}
