package client

import "net/url"

// eachPage walks a marker-paged listing: fetch answers one page's items and the marker of the
// next page ("" after the last), and fn sees every item in order. A marker the server repeats
// ends the walk, so a server that never moves on cannot loop the client forever.
func eachPage[T any](fetch func(marker string) ([]T, string, error), fn func(T) error) error {
	marker := ""
	for {
		items, next, err := fetch(marker)
		if err != nil {
			return err
		}
		for _, it := range items {
			if err := fn(it); err != nil {
				return err
			}
		}
		if next == "" || next == marker {
			return nil
		}
		marker = next
	}
}

// markerQuery answers the query of a page: the limit, and the marker unless it is the first page.
func markerQuery(limit, marker string) url.Values {
	q := url.Values{"limit": {limit}}
	if marker != "" {
		q.Set("marker", marker)
	}
	return q
}
