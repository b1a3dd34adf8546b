// Package blobstore opens the bucket where Groundwork keeps files, through
// gocloud.dev/blob so file://, s3:// (S3, MinIO, R2) and mem:// all work.
package blobstore

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"path/filepath"

	"gocloud.dev/blob"
	_ "gocloud.dev/blob/fileblob" // file:// buckets for development
	_ "gocloud.dev/blob/memblob"  // mem:// buckets for tests
	_ "gocloud.dev/blob/s3blob"   // s3:// buckets for production
)

// Open opens the bucket at rawURL. A file:// bucket's directory is created
// when missing, and a relative path ("file://.data/blobs") is resolved
// against the working directory, which fileblob alone would reject.
func Open(ctx context.Context, rawURL string) (*blob.Bucket, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, fmt.Errorf("parse blob url: %w", err)
	}
	if u.Scheme == "file" {
		dir := u.Host + u.Path
		if !filepath.IsAbs(dir) {
			if dir, err = filepath.Abs(dir); err != nil {
				return nil, fmt.Errorf("blob dir: %w", err)
			}
		}
		if err := os.MkdirAll(dir, 0o750); err != nil {
			return nil, fmt.Errorf("create blob dir: %w", err)
		}
		q := u.Query()
		// fileblob keeps metadata (content type) in .attrs sidecar files.
		q.Set("no_tmp_dir", "true")
		u = &url.URL{Scheme: "file", Path: dir, RawQuery: q.Encode()}
	}
	b, err := blob.OpenBucket(ctx, u.String())
	if err != nil {
		return nil, fmt.Errorf("open blob bucket %s: %w", u.Redacted(), err)
	}
	return b, nil
}
