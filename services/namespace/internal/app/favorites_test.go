package app

import (
	"slices"
	"testing"
)

// TestRecentTypeFilter checks 11.4's type names: the document family, single families, extensions
// (case-insensitive), "all", lists, and unknown names matching nothing (decision 30).
func TestRecentTypeFilter(t *testing.T) {
	files := []string{"a.pdf", "b.docx", "c.xlsx", "d.pptx", "e.txt", "f.jpg", "g.PDF", "h"}
	tests := []struct {
		types []string
		want  []string // nil: no filter at all
	}{
		{types: nil, want: nil},
		{types: []string{"all"}, want: nil},
		{types: []string{"pdf", "all"}, want: nil},
		{types: []string{"document"}, want: []string{"a.pdf", "b.docx", "c.xlsx", "d.pptx", "e.txt", "g.PDF"}},
		{types: []string{"pdf"}, want: []string{"a.pdf", "g.PDF"}},
		{types: []string{"WORD", "excel"}, want: []string{"b.docx", "c.xlsx"}},
		{types: []string{"powerpoint"}, want: []string{"d.pptx"}},
		{types: []string{"text"}, want: []string{"e.txt"}},
		{types: []string{".JPG", "text"}, want: []string{"e.txt", "f.jpg"}},
		{types: []string{"unheard-of"}, want: []string{}},
		{types: []string{".nothing"}, want: []string{}},
	}
	for _, tt := range tests {
		match := recentTypeFilter(tt.types)
		if tt.want == nil {
			if match != nil {
				t.Errorf("%v: a filter, want none", tt.types)
			}
			continue
		}
		if match == nil {
			t.Errorf("%v: no filter", tt.types)
			continue
		}
		got := []string{}
		for _, name := range files {
			if match(Node{Name: name}) {
				got = append(got, name)
			}
		}
		if !slices.Equal(got, tt.want) {
			t.Errorf("%v: %v, want %v", tt.types, got, tt.want)
		}
	}
}
