package sqlstore

// SetPGAlertBatching turns the PostgreSQL-only batched UPDATE of changed alerts and the array lookup of known
// alerts on or off, and returns a function that restores the previous settings, so that a benchmark can
// compare the store with and without them.
func SetPGAlertBatching(updates, lookups bool) (restore func()) {
	u, l := batchAlertUpdates, arrayAlertLookups
	batchAlertUpdates, arrayAlertLookups = updates, lookups
	return func() { batchAlertUpdates, arrayAlertLookups = u, l }
}
