package app

// pageWindow reads the page a listing's pagination parameters name, once the caller has told
// marker mode from page mode (decision 1): in page mode page (default 1) and pageSize, with
// page x page_size at most maxPageWindow; in marker mode limit and marker. Sizes are 1-max,
// default def. Shared by the recycle-bin and favorites listings.
func pageWindow(marker *string, limit, page, pageSize *int, pageMode bool, def, max int) (size, offset int, after string, err error) {
	sized := func(v *int, name string) (int, error) {
		if v == nil {
			return def, nil
		}
		if *v < 1 || *v > max {
			return 0, invalid("%s must be 1-%d", name, max)
		}
		return *v, nil
	}
	if !pageMode {
		if marker != nil {
			after = *marker
		}
		size, err = sized(limit, "limit")
		return size, 0, after, err
	}
	if size, err = sized(pageSize, "page_size"); err != nil {
		return 0, 0, "", err
	}
	n := 1
	if page != nil {
		n = *page
	}
	if n < 1 || n > maxPageWindow/size {
		return 0, 0, "", invalid("page must be at least 1 and page x page_size at most %d", maxPageWindow)
	}
	return size, (n - 1) * size, "", nil
}
