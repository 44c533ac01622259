package blob

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
)

// s3PartSize is the multipart part size. minio-go buffers one part per upload thread, and uploads
// run with one thread, so this bounds the memory one Put holds.
const s3PartSize = 16 << 20

// s3MaxObjectName is S3's limit on object names, in bytes.
const s3MaxObjectName = 1024

// S3Config says where an S3 store keeps its blobs.
type S3Config struct {
	// Endpoint is host:port, without a scheme.
	Endpoint string
	Bucket   string
	// AccessKey and SecretKey sign requests; both empty means anonymous requests.
	AccessKey string
	SecretKey string
	// Region is the bucket's region; empty means us-east-1, which spares a bucket location request
	// that not every S3-compatible server answers.
	Region string
	// Secure selects https.
	Secure bool
	// Prefix, if set, is prepended to every key inside the bucket, so several stores can share one
	// bucket. A '/' is added if it does not end with one.
	Prefix string
	// CreateBucket creates the bucket if it does not exist yet.
	CreateBucket bool
	// Transport, if set, carries the requests, for instance to trust a private CA.
	Transport http.RoundTripper
}

// S3 stores blobs as objects in an S3-compatible bucket, addressed path-style so that any
// S3-compatible server works without wildcard DNS.
type S3 struct {
	client *minio.Client
	bucket string
	prefix string
}

var _ Store = (*S3)(nil)

// NewS3 answers a store in the bucket cfg names. It checks that the bucket exists, creating it if
// cfg.CreateBucket is set, so a wrong endpoint, credential or bucket fails here rather than at the
// first upload.
func NewS3(ctx context.Context, cfg S3Config) (*S3, error) {
	if cfg.Endpoint == "" || cfg.Bucket == "" {
		return nil, errors.New("blob: s3 endpoint and bucket must be set")
	}
	region := cfg.Region
	if region == "" {
		region = "us-east-1"
	}
	var creds *credentials.Credentials
	if cfg.AccessKey != "" || cfg.SecretKey != "" {
		creds = credentials.NewStaticV4(cfg.AccessKey, cfg.SecretKey, "")
	} else {
		creds = credentials.New(&credentials.Static{Value: credentials.Value{SignerType: credentials.SignatureAnonymous}})
	}
	client, err := minio.New(cfg.Endpoint, &minio.Options{
		Creds:        creds,
		Secure:       cfg.Secure,
		Transport:    cfg.Transport,
		Region:       region,
		BucketLookup: minio.BucketLookupPath,
	})
	if err != nil {
		return nil, fmt.Errorf("blob: s3 client: %w", err)
	}
	exists, err := client.BucketExists(ctx, cfg.Bucket)
	if err != nil {
		return nil, fmt.Errorf("blob: s3 bucket %q: %w", cfg.Bucket, err)
	}
	if !exists {
		if !cfg.CreateBucket {
			return nil, fmt.Errorf("blob: s3 bucket %q does not exist", cfg.Bucket)
		}
		err := client.MakeBucket(ctx, cfg.Bucket, minio.MakeBucketOptions{Region: region})
		// Another instance starting at the same time may have won the race.
		if err != nil && !isCode(err, "BucketAlreadyOwnedByYou", "BucketAlreadyExists") {
			return nil, fmt.Errorf("blob: s3 create bucket %q: %w", cfg.Bucket, err)
		}
	}
	prefix := cfg.Prefix
	if prefix != "" && !strings.HasSuffix(prefix, "/") {
		prefix += "/"
	}
	if len(prefix) > s3MaxObjectName-MaxKeyLen {
		return nil, fmt.Errorf("blob: s3 prefix is %d bytes, more than %d", len(prefix), s3MaxObjectName-MaxKeyLen)
	}
	return &S3{client: client, bucket: cfg.Bucket, prefix: prefix}, nil
}

func (s *S3) object(key string) string { return s.prefix + key }

// Put implements Store. S3 makes a single PUT or a completed multipart upload visible at once, so
// atomicity comes from the server. minio-go sends a known size up to one part in a single PUT,
// larger and unknown sizes as a multipart upload, which it aborts on any error.
func (s *S3) Put(ctx context.Context, key string, r io.Reader, size int64) (int64, error) {
	if err := ValidateKey(key); err != nil {
		return 0, err
	}
	if size < -1 {
		return 0, fmt.Errorf("blob: put %q: invalid size %d", key, size)
	}
	if size == -1 {
		// An empty blob of unknown size would go out as a multipart upload with an empty part, which
		// S3 servers refuse; peeking one byte tells whether the known-size path can take it.
		var first [1]byte
		n, err := io.ReadFull(r, first[:])
		switch {
		case err == io.EOF:
			size = 0
		case err != nil:
			return 0, fmt.Errorf("blob: put %q: %w", key, err)
		default:
			r = io.MultiReader(bytes.NewReader(first[:n]), r)
		}
	}
	var sized *sizedReader
	if size >= 0 {
		// minio-go v7.4.1 relies on net/http to notice a wrong length, which it does only after the
		// declared bytes went out: over https a longer reader left an object of its first size
		// bytes stored while PutObject failed, and with size 0 r is never read, so extra bytes were
		// dropped silently. sizedReader fails before the last declared byte is sent, so the server
		// never receives a complete body.
		sized = newSizedReader(r, size)
		r = sized
	}
	if size == 0 {
		// minio-go sends no body for an empty object and so never reads r: check here that r is
		// empty. A sizedReader with nothing left to pass answers io.EOF or ErrSizeMismatch.
		if _, err := sized.Read(nil); err != io.EOF {
			return 0, fmt.Errorf("blob: put %q: %w", key, err)
		}
	}
	info, err := s.client.PutObject(ctx, s.bucket, s.object(key), r, size, minio.PutObjectOptions{
		PartSize:   s3PartSize,
		NumThreads: 1,
		// Over plain http minio-go signs the payload in aws-chunked streaming form, but for an empty
		// body it sends chunked transfer encoding without a Content-Length, which S3 servers refuse
		// with MissingContentLength. An empty payload needs no streaming, so sign it the plain way.
		DisableContentSha256: size == 0,
	})
	if err != nil {
		// The HTTP client may report a failed body read as a transport error without the cause in
		// its chain; the reader knows.
		if sized != nil && !errors.Is(err, ErrSizeMismatch) {
			if merr := sized.mismatch(); merr != nil {
				err = fmt.Errorf("%w (upload: %w)", merr, err)
			}
		}
		return 0, fmt.Errorf("blob: put %q: %w", key, mapS3Error(err))
	}
	if size >= 0 && info.Size != size {
		// Unreachable with the reader above; kept because a stored object of the wrong size would
		// be silent corruption.
		return 0, fmt.Errorf("blob: put %q: %w: stored %d of %d bytes", key, ErrSizeMismatch, info.Size, size)
	}
	return info.Size, nil
}

// Open implements Store. It stats the object first: minio-go's GetObject is lazy, but Open must
// report ErrNotFound and ErrInvalidRange itself, and the size turns every request into an explicit
// byte range (S3 refuses a range starting at the end, which Open allows). The read is pinned to the
// stated ETag so a concurrent replacement cannot yield bytes of an object of another size.
func (s *S3) Open(ctx context.Context, key string, offset, length int64) (io.ReadCloser, error) {
	info, err := s.stat(ctx, key)
	if err != nil {
		return nil, fmt.Errorf("blob: open %q: %w", key, err)
	}
	n, err := resolveRange(info.Size, offset, length)
	if err != nil {
		return nil, fmt.Errorf("blob: open %q: %w", key, err)
	}
	if n == 0 {
		return io.NopCloser(strings.NewReader("")), nil
	}
	var opts minio.GetObjectOptions
	if offset != 0 || n != info.Size {
		// SetRange's end is inclusive.
		if err := opts.SetRange(offset, offset+n-1); err != nil {
			return nil, fmt.Errorf("blob: open %q: %w", key, err)
		}
	}
	if info.ETag != "" {
		if err := opts.SetMatchETag(info.ETag); err != nil {
			return nil, fmt.Errorf("blob: open %q: %w", key, err)
		}
	}
	core := minio.Core{Client: s.client}
	body, _, _, err := core.GetObject(ctx, s.bucket, s.object(key), opts)
	if err != nil {
		return nil, fmt.Errorf("blob: open %q: %w", key, mapS3Error(err))
	}
	return body, nil
}

// Stat implements Store.
func (s *S3) Stat(ctx context.Context, key string) (Info, error) {
	info, err := s.stat(ctx, key)
	if err != nil {
		return Info{}, fmt.Errorf("blob: stat %q: %w", key, err)
	}
	return Info{Key: key, Size: info.Size, ModTime: info.LastModified}, nil
}

func (s *S3) stat(ctx context.Context, key string) (minio.ObjectInfo, error) {
	if err := ValidateKey(key); err != nil {
		return minio.ObjectInfo{}, err
	}
	info, err := s.client.StatObject(ctx, s.bucket, s.object(key), minio.StatObjectOptions{})
	if err != nil {
		return minio.ObjectInfo{}, mapS3Error(err)
	}
	return info, nil
}

// Delete implements Store.
func (s *S3) Delete(ctx context.Context, key string) error {
	if err := ValidateKey(key); err != nil {
		return err
	}
	err := s.client.RemoveObject(ctx, s.bucket, s.object(key), minio.RemoveObjectOptions{})
	// S3 answers success for an absent key; some compatible servers answer NoSuchKey.
	if err = mapS3Error(err); err != nil && !errors.Is(err, ErrNotFound) {
		return fmt.Errorf("blob: delete %q: %w", key, err)
	}
	return nil
}

// List implements Store. Objects in the bucket whose names are not valid keys (written by other
// tools, directory markers) are skipped.
func (s *S3) List(ctx context.Context, prefix string, fn func(Info) error) error {
	// ListObjectsIter pages synchronously as the loop pulls, so breaking out leaves nothing running.
	objects := s.client.ListObjectsIter(ctx, s.bucket, minio.ListObjectsOptions{
		Prefix:    s.prefix + prefix,
		Recursive: true,
	})
	for obj := range objects {
		if obj.Err != nil {
			return fmt.Errorf("blob: list %q: %w", prefix, mapS3Error(obj.Err))
		}
		key, ok := strings.CutPrefix(obj.Key, s.prefix)
		if !ok || ValidateKey(key) != nil {
			continue
		}
		if err := fn(Info{Key: key, Size: obj.Size, ModTime: obj.LastModified}); err != nil {
			return err
		}
	}
	return ctx.Err()
}

// mapS3Error turns S3's answers for a missing object into ErrNotFound, keeping the original error in
// the chain. A missing bucket is a configuration fault, not a missing blob, and stays as it is.
func mapS3Error(err error) error {
	if err == nil {
		return nil
	}
	resp := minio.ToErrorResponse(err)
	switch {
	case resp.Code == "NoSuchKey", resp.Code == "NotFound":
		return fmt.Errorf("%w: %w", ErrNotFound, err)
	case resp.StatusCode == http.StatusNotFound && resp.Code != "NoSuchBucket":
		return fmt.Errorf("%w: %w", ErrNotFound, err)
	}
	return err
}

func isCode(err error, codes ...string) bool {
	code := minio.ToErrorResponse(err).Code
	for _, c := range codes {
		if code == c {
			return true
		}
	}
	return false
}
