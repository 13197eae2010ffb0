package sqlstore

// SetSearchTopKMin sets the least number of pieces a SQLite search ranks before grouping (searchTopK) and returns
// a function that restores it.
func SetSearchTopKMin(n int) (restore func()) {
	old := searchTopKMin
	searchTopKMin = n
	return func() { searchTopKMin = old }
}
