package sqlstore

import "time"

// SetSearchTopKMin sets the least number of pieces a SQLite search ranks before grouping (searchTopK) and returns
// a function that restores it.
func SetSearchTopKMin(n int) (restore func()) {
	old := searchTopKMin
	searchTopKMin = n
	return func() { searchTopKMin = old }
}

// SetSearchWindowMin sets the least number of recent matching pieces a SQLite search scores (searchWindow) and
// returns a function that restores it.
func SetSearchWindowMin(n int) (restore func()) {
	old := searchWindowMin
	searchWindowMin = n
	return func() { searchWindowMin = old }
}

// SetSearchExcludeOnce sets the most pieces with an excluded word for which a SQLite search finds the excluded
// documents once (searchExcludeOnce) and returns a function that restores it.
func SetSearchExcludeOnce(n int) (restore func()) {
	old := searchExcludeOnce
	searchExcludeOnce = n
	return func() { searchExcludeOnce = old }
}

// SetSearchStatsTTL sets how long SQLite's search keeps words' document counts and the index's totals
// (searchStatsTTL) and returns a function that restores it.
func SetSearchStatsTTL(d time.Duration) (restore func()) {
	old := searchStatsTTL
	searchStatsTTL = d
	return func() { searchStatsTTL = old }
}

// SetSearchTermsCacheBytes sets how much search_terms data SQLite's search keeps in memory (searchTermsCacheBytes;
// 0 keeps none) and returns a function that restores it.
func SetSearchTermsCacheBytes(n int) (restore func()) {
	old := searchTermsCacheBytes
	searchTermsCacheBytes = n
	return func() { searchTermsCacheBytes = old }
}
