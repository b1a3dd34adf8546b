package airtablefake

import "strings"

// iterator is the snapshot behind Airtable's list offsets, which look like
// "itrXXXXXXXXXXXXXX/recYYYYYYYYYYYYYY": the iterator and the first record
// of the next page.
type iterator struct {
	id    string // "" until the first offset is handed out
	table *table
	ids   []string
	index map[string]int // position of each ID in ids
}

// offsetFor registers the iterator if needed and returns the offset of the
// page starting at pos.
func (s *Server) offsetFor(it *iterator, pos int) string {
	if it.id == "" {
		it.id = s.newID("itr")
		it.index = make(map[string]int, len(it.ids))
		for i, id := range it.ids {
			it.index[id] = i
		}
		s.iterators[it.id] = it
	}
	return it.id + "/" + it.ids[pos]
}

// resume finds the iterator and position an offset names.
func (s *Server) resume(t *table, offset string) (*iterator, int, *apiError) {
	gone := unprocessable(errIteratorGone, "Iterator not available for offset %q. Try listing records again.", offset)
	itrID, recID, ok := strings.Cut(offset, "/")
	if !ok {
		return nil, 0, gone
	}
	it := s.iterators[itrID]
	if it == nil || it.table != t {
		return nil, 0, gone
	}
	pos, ok := it.index[recID]
	if !ok {
		return nil, 0, gone
	}
	return it, pos, nil
}
