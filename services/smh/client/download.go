package client

import (
	"context"
	"fmt"
	"hash/crc64"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// fileInfo is the answer of file info (3.9): the file's attributes and a signed URL of its bytes.
type fileInfo struct {
	Entry
	CosURL string `json:"cosUrl"`
}

// info asks for a file's attributes and a signed URL of its bytes (3.9).
func (s *Space) info(ctx context.Context, path string) (fileInfo, error) {
	var fi fileInfo
	_, err := s.call(ctx, "GET", s.url("file", path), url.Values{"info": {""}}, nil, &fi)
	if err == nil && fi.CosURL == "" {
		err = fmt.Errorf("the server gave no download URL for %s", path)
	}
	return fi, err
}

// Download writes the file at path to the local file dst and answers its attributes. The bytes
// go to a partial file beside dst, named after the version's eTag: a later Download of the same
// version resumes it with a Range request. The crc64 of the whole is checked against the
// server's before the partial file takes dst's name, and dst gets the file's modification time.
func (s *Space) Download(ctx context.Context, path, dst string, progress Progress) (Transfer, error) {
	fi, err := s.info(ctx, path)
	if err != nil {
		return Transfer{}, err
	}
	partial := partialName(dst, fi.ETag)
	f, err := os.OpenFile(partial, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return Transfer{}, err
	}
	defer f.Close()
	// The bytes already here count towards the crc64 and the progress.
	crc := crc64.New(crcTable)
	have, err := io.Copy(crc, f)
	if err != nil {
		return Transfer{}, err
	}
	if have > int64(fi.Size) {
		if err := f.Truncate(0); err != nil {
			return Transfer{}, err
		}
		if _, err := f.Seek(0, io.SeekStart); err != nil {
			return Transfer{}, err
		}
		crc.Reset()
		have = 0
	}
	if progress != nil && have > 0 {
		progress(have)
	}
	if have < int64(fi.Size) {
		if err := s.c.fetch(ctx, fi.CosURL, have, io.MultiWriter(f, crc), progress); err != nil {
			return Transfer{}, err
		}
	}
	if got := strconv.FormatUint(crc.Sum64(), 10); fi.CRC64 != "" && got != fi.CRC64 {
		f.Close()
		os.Remove(partial)
		return Transfer{}, fmt.Errorf("%s: the bytes received have crc64 %s, the server's file has %s; the partial download is removed", path, got, fi.CRC64)
	}
	if err := f.Close(); err != nil {
		return Transfer{}, err
	}
	if err := os.Rename(partial, dst); err != nil {
		return Transfer{}, err
	}
	if t, err := time.Parse(time.RFC3339Nano, fi.ModificationTime); err == nil {
		os.Chtimes(dst, t, t)
	}
	return Transfer{Entry: fi.Entry, Moved: int64(fi.Size) - have, Resumed: have}, nil
}

// DownloadTo writes the file at path to w and answers its attributes, or an error when the
// crc64 of what was written differs from the server's.
func (s *Space) DownloadTo(ctx context.Context, path string, w io.Writer, progress Progress) (Entry, error) {
	fi, err := s.info(ctx, path)
	if err != nil {
		return Entry{}, err
	}
	crc := crc64.New(crcTable)
	if err := s.c.fetch(ctx, fi.CosURL, 0, io.MultiWriter(w, crc), progress); err != nil {
		return Entry{}, err
	}
	if got := strconv.FormatUint(crc.Sum64(), 10); fi.CRC64 != "" && got != fi.CRC64 {
		return Entry{}, fmt.Errorf("%s: the bytes received have crc64 %s, the server's file has %s", path, got, fi.CRC64)
	}
	return fi.Entry, nil
}

// partialName names the partial file of a download of one version: hidden, beside dst.
func partialName(dst, etag string) string {
	tag := strings.Trim(etag, `"`)
	if len(tag) > 16 {
		tag = tag[:16]
	}
	return filepath.Join(filepath.Dir(dst), "."+filepath.Base(dst)+"."+tag+".smhpart")
}

// fetch GETs a signed URL from offset on into w. A transfer cut short is taken up again from where
// it stopped, a few times.
func (c *Client) fetch(ctx context.Context, signed string, offset int64, w io.Writer, progress Progress) error {
	return retry(ctx, func() (bool, error) {
		n, final, err := c.fetchOnce(ctx, signed, offset, w, progress)
		offset += n
		return final, err
	})
}

// fetchOnce makes one GET from offset on and answers the bytes written and whether err is final.
func (c *Client) fetchOnce(ctx context.Context, signed string, offset int64, w io.Writer, progress Progress) (int64, bool, error) {
	req, err := http.NewRequestWithContext(ctx, "GET", signed, nil)
	if err != nil {
		return 0, true, err
	}
	if offset > 0 {
		req.Header.Set("Range", "bytes="+strconv.FormatInt(offset, 10)+"-")
	}
	resp, err := c.data.Do(req)
	if err != nil {
		return 0, false, hideURL("GET", "the data endpoint", err)
	}
	defer resp.Body.Close()
	switch {
	case offset > 0 && resp.StatusCode == http.StatusPartialContent:
		if !strings.HasPrefix(resp.Header.Get("Content-Range"), "bytes "+strconv.FormatInt(offset, 10)+"-") {
			return 0, true, fmt.Errorf("the data endpoint answered range %q for bytes %d-", resp.Header.Get("Content-Range"), offset)
		}
	case offset == 0 && resp.StatusCode == http.StatusOK:
	case resp.StatusCode >= 400:
		e := errorOf(resp).(*Error)
		return 0, e.Status < 500, e
	default:
		return 0, true, fmt.Errorf("the data endpoint answered %d to a GET from byte %d", resp.StatusCode, offset)
	}
	n, err := io.Copy(w, &countingReader{r: resp.Body, progress: progress})
	return n, false, err
}
