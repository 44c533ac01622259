package app

import (
	"cmp"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"math"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"google.golang.org/grpc/metadata"

	"github.com/opensmh/opensmh/pkg/authz"
	"github.com/opensmh/opensmh/pkg/clock"
	"github.com/opensmh/opensmh/pkg/ratelimit"
	"github.com/opensmh/opensmh/pkg/reqmeta"
)

// Share links (SMH API section 13, decisions 18 and 28, docs/shares.md). The owner side
// (13.1-13.7) authenticates like every library route; the visitor side (13.8-13.10 and the
// object service's ShareResolverService) finds the share by its code and, past 13.9, takes the
// share access token authtoken minted for it. Every visitor call reads the share afresh, so a
// disabled, expired or deleted share refuses at once on every replica.

// Share use-case errors; the transport maps each to its SMH code.
var (
	ErrShareDisabled         = errors.New("the share is disabled")
	ErrShareExpired          = errors.New("the share has expired")
	ErrShareFileEmpty        = errors.New("nothing the share names is left")
	ErrExtractionCodeInvalid = errors.New("wrong extraction code")
	ErrCannotPreview         = errors.New("the share does not allow previews (or its limit is reached)")
	ErrCannotDownload        = errors.New("the share does not allow downloads (or its limit is reached)")
	ErrShareRateLimited      = errors.New("too many attempts; try again later")
	ErrInvalidParameter      = errors.New("invalid parameter")
	ErrShareFileNotFound     = errors.New("a shared path names no entry")
)

// Share limits and formats (docs/shares.md).
const (
	maxShareItems      = 1000
	maxShareNameLen    = 255
	maxExtractionCode  = 6
	maxShareCounter    = 1_000_000_000
	maxShareToUsers    = 1000
	defaultShareLimit  = 10
	maxShareListLimit  = 100
	maxShareSearch     = 50
	maxShareFilesLimit = 100
	maxInodeChain      = 64
	// WrongCodesPerWindow wrong extraction codes per share within WrongCodeWindow lock the share's
	// verify for the rest of the window (across replicas: the count is in the share's row).
	WrongCodesPerWindow = 10
	WrongCodeWindow     = 10 * time.Minute
	// maxSharedTree bounds the entries a zip of a share may list (ListSharedTree).
	maxSharedTree = 100_000
)

// ShareTokenMinter mints share access tokens (authtoken MintShareToken, operator key).
type ShareTokenMinter interface {
	MintShareToken(ctx context.Context, libraryID, shareID, userID, clientID string) (token string, expiresAt time.Time, err error)
}

// ShareSettings wires the share use cases (Config.Shares).
type ShareSettings struct {
	// PublicURL is the base clients reach (the gateway's --public-url): links are
	// <PublicURL>/s/<code>.
	PublicURL string
	Minter    ShareTokenMinter
	// Limits bound wrong extraction codes per client address and visitor listings per (share,
	// client address) with pkg/ratelimit, the limiter the object service uses for preview,
	// download and zip (docs/shares.md, "Rate limits"). nil = ratelimit.DefaultShareLimits.
	Limits *ratelimit.ShareLimits
}

// shareLimiters are the buckets built from ShareSettings.Limits (nil limiter = no limit).
type shareLimiters struct {
	wrongCodes *ratelimit.Limiter
	visits     *ratelimit.ShareVisitors
}

func newShareLimiters(s ShareSettings, c clock.Clock) shareLimiters {
	l := s.Limits.OrDefault()
	return shareLimiters{
		wrongCodes: ratelimit.New(l.WrongCodes, ratelimit.WithClock(c)),
		visits:     ratelimit.NewShareVisitors(l, ratelimit.WithClock(c)),
	}
}

// newShareID answers 128 random bits, base64url without padding (22 characters).
func newShareID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b) // crypto/rand never fails (Go 1.24+)
	return base64.RawURLEncoding.EncodeToString(b)
}

// ---- body parsing (fuzzed: shares_fuzz_test.go)

// ShareCreateBody is 13.1's body, checked.
type ShareCreateBody struct {
	Name    string
	Paths   [][]string
	Config  ShareConfig
	ToUsers []string
}

// ShareUpdateBody is 13.7's body, checked.
type ShareUpdateBody struct {
	Name   *string
	Config ShareConfig
}

func shareName(v any) (string, error) {
	s, ok := v.(string)
	if !ok || strings.TrimSpace(s) == "" || utf8.RuneCountInString(s) > maxShareNameLen || !utf8.ValidString(s) ||
		strings.ContainsFunc(s, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
		return "", invalid("name must be a non-empty string of at most %d characters without control characters", maxShareNameLen)
	}
	return s, nil
}

func boolField(m map[string]any, key string) (bool, error) {
	switch v := m[key].(type) {
	case nil:
		return false, nil
	case bool:
		return v, nil
	}
	return false, invalid("%s must be a boolean", key)
}

// counterField reads a limit: a whole number 0..maxShareCounter, as a number or a decimal string.
func counterField(m map[string]any, key string) (int64, error) {
	var f float64
	switch v := m[key].(type) {
	case nil:
		return 0, nil
	case float64:
		f = v
	case string:
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return 0, invalid("%s must be a whole number", key)
		}
		f = float64(n)
	default:
		return 0, invalid("%s must be a number", key)
	}
	if f != math.Trunc(f) || f < 0 || f > maxShareCounter {
		return 0, invalid("%s must be a whole number from 0 to %d", key, maxShareCounter)
	}
	return int64(f), nil
}

// parseISO reads an ISO 8601 time (12.4), with or without fractional seconds.
func parseISO(key string, v any) (time.Time, error) {
	s, ok := v.(string)
	if !ok {
		return time.Time{}, invalid("%s must be an ISO 8601 time", key)
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil || t.Year() < 1970 || t.Year() > 9999 {
		return time.Time{}, invalid("%s must be an ISO 8601 time", key)
	}
	return t.UTC().Truncate(time.Millisecond), nil
}

// parseShareConfig reads a config object (13.1, 13.7). Omitted fields take their defaults
// (decision 28): no permissions, no code, no limits; not permanent, so expireTime is required
// unless isPermanent is true.
func parseShareConfig(v any, allowToUsers bool) (ShareConfig, []string, error) {
	var c ShareConfig
	m, ok := v.(map[string]any)
	if v != nil && !ok {
		return c, nil, invalid("config must be an object")
	}
	var err error
	for _, f := range []struct {
		key string
		dst *bool
	}{{"isPermanent", &c.IsPermanent}, {"canPreview", &c.CanPreview}, {"canDownload", &c.CanDownload},
		{"canSaveToNetdisk", &c.CanSave}, {"forbidAnonymousUser", &c.ForbidAnonymous}} {
		if *f.dst, err = boolField(m, f.key); err != nil {
			return c, nil, err
		}
	}
	for _, f := range []struct {
		key string
		dst *int64
	}{{"previewLimit", &c.PreviewLimit}, {"downloadLimit", &c.DownloadLimit}, {"userLimit", &c.UserLimit}} {
		if *f.dst, err = counterField(m, f.key); err != nil {
			return c, nil, err
		}
	}
	if !c.IsPermanent {
		if m["expireTime"] == nil {
			return c, nil, invalid("expireTime is required unless isPermanent is true")
		}
		if c.ExpireAt, err = parseISO("expireTime", m["expireTime"]); err != nil {
			return c, nil, err
		}
	}
	switch code := m["extractionCode"].(type) {
	case nil:
	case string:
		if len(code) > maxExtractionCode || strings.ContainsFunc(code, func(r rune) bool {
			return !(r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z')
		}) {
			return c, nil, invalid("extractionCode must be at most %d letters or digits", maxExtractionCode)
		}
		c.ExtractionCode = code
	default:
		return c, nil, invalid("extractionCode must be a string")
	}
	var toUsers []string
	if raw, present := m["shareToUsers"]; present && raw != nil {
		if !allowToUsers {
			return c, nil, invalid("shareToUsers cannot be changed")
		}
		list, ok := raw.([]any)
		if !ok || len(list) > maxShareToUsers {
			return c, nil, invalid("shareToUsers must be a list of at most %d user ids", maxShareToUsers)
		}
		for _, u := range list {
			s, ok := u.(string)
			if !ok || s == "" || len(s) > 256 {
				return c, nil, invalid("shareToUsers must hold non-empty user ids")
			}
			if !slices.Contains(toUsers, s) {
				toUsers = append(toUsers, s)
			}
		}
	}
	// Named users and a visitor limit need visitors who show who they are (13.0).
	if (len(toUsers) > 0 || c.UserLimit > 0) && !c.ForbidAnonymous {
		return c, nil, invalid("shareToUsers and userLimit need forbidAnonymousUser: true")
	}
	return c, toUsers, nil
}

// ParseShareCreate checks 13.1's body.
func ParseShareCreate(body map[string]any, maxNameLen int) (ShareCreateBody, error) {
	var b ShareCreateBody
	var err error
	if b.Name, err = shareName(body["name"]); err != nil {
		return b, err
	}
	list, ok := body["filePath"].([]any)
	if !ok || len(list) == 0 {
		return b, invalid("filePath must be a non-empty list of paths")
	}
	if len(list) > maxShareItems {
		return b, ErrTooManyItems
	}
	for _, raw := range list {
		s, ok := raw.(string)
		if !ok {
			return b, invalid("filePath must hold strings")
		}
		path, err := SplitPath(s, maxNameLen)
		if err != nil {
			return b, err
		}
		if len(path) == 0 {
			return b, invalid("the root cannot be shared; name its entries")
		}
		b.Paths = append(b.Paths, path)
	}
	b.Config, b.ToUsers, err = parseShareConfig(body["config"], true)
	return b, err
}

// ParseShareUpdate checks 13.7's body: config is required and replaces the stored one.
func ParseShareUpdate(body map[string]any) (ShareUpdateBody, error) {
	var b ShareUpdateBody
	if raw, ok := body["name"]; ok && raw != nil {
		name, err := shareName(raw)
		if err != nil {
			return b, err
		}
		b.Name = &name
	}
	raw, ok := body["config"]
	if !ok || raw == nil {
		return b, invalid("config is required")
	}
	var err error
	b.Config, _, err = parseShareConfig(raw, false)
	return b, err
}

// ParseInodeChain reads 13.10's {Inodes}: "" is the share root; else up to 64 positive decimal
// inodes joined by "/" (one trailing "/" is tolerated).
func ParseInodeChain(s string) ([]int64, error) {
	s = strings.TrimSuffix(s, "/")
	if s == "" {
		return nil, nil
	}
	parts := strings.Split(s, "/")
	if len(parts) > maxInodeChain {
		return nil, ErrInvalidParameter
	}
	chain := make([]int64, 0, len(parts))
	for _, p := range parts {
		in, err := strconv.ParseInt(p, 10, 64)
		if err != nil || in <= 0 || strconv.FormatInt(in, 10) != p {
			return nil, ErrInvalidParameter
		}
		chain = append(chain, in)
	}
	return chain, nil
}

// ---- owner side

// ShareLinkInfo is what create and update answer (13.1, 13.7).
type ShareLinkInfo struct {
	Share    Share
	Endpoint string
	Domains  []string
}

func (n *Namespace) linkOf(sh Share) ShareLinkInfo {
	base := strings.TrimSuffix(n.shares.PublicURL, "/")
	info := ShareLinkInfo{Share: sh, Endpoint: base + "/s/" + url.PathEscape(sh.Code), Domains: []string{}}
	if u, err := url.Parse(base); err == nil && u.Host != "" {
		info.Domains = []string{u.Host}
	}
	return info
}

// CreateShare shares entries of a space (13.1): any principal that reaches the space may share
// what it can read (docs/shares.md); the creator is the acting user.
func (n *Namespace) CreateShare(ctx context.Context, libraryID, spaceID string, body map[string]any) (ShareLinkInfo, error) {
	t, err := n.open(ctx, libraryID, spaceID, "", false)
	if err != nil {
		return ShareLinkInfo{}, err
	}
	b, err := ParseShareCreate(body, t.r.lib.MaxNameLength)
	if err != nil {
		return ShareLinkInfo{}, err
	}
	sh, err := n.store.CreateShare(ctx, Share{
		LibraryID: libraryID, SpaceID: spaceID, ShareID: newShareID(), Code: newShareID(), CreatorID: userOf(t.p),
		Name: b.Name, Config: b.Config, ToUsers: b.ToUsers, CreatedAt: n.clock.Now(),
	}, b.Paths)
	if errors.Is(err, ErrNodeNotFound) || errors.Is(err, ErrNotDirectory) {
		return ShareLinkInfo{}, ErrShareFileNotFound
	}
	if err != nil {
		return ShareLinkInfo{}, err
	}
	return n.linkOf(sh), nil
}

// shareAccess answers the share when the caller manages it (managesShare), else 403
// NoPermission.
func (n *Namespace) shareAccess(ctx context.Context, libraryID, shareID string) (Share, *authz.Principal, error) {
	r, err := n.begin(ctx, libraryID)
	if err != nil {
		return Share{}, nil, err
	}
	p, err := r.needPrincipal()
	if err != nil {
		return Share{}, nil, err
	}
	sh, err := n.store.GetShare(ctx, libraryID, shareID)
	if err != nil {
		return Share{}, nil, err
	}
	if !managesShare(r.lib, p, sh) {
		return Share{}, nil, authz.ErrNoPermission
	}
	return sh, p, nil
}

func isAdmin(p *authz.Principal) bool { return p.Has(authz.Admin) }

// shareLibraryAdmin reports an admin of every space. A token minted for some spaces of a
// multi-tenant library is an admin of those spaces only: it manages their shares but neither
// lists nor searches the library's, as for library usage (docs/shares.md, "Authorization").
func shareLibraryAdmin(lib Library, p *authz.Principal) bool {
	return isAdmin(p) && !(lib.IsMultiSpace && len(p.SpaceIDs) > 0 && !p.AllSpaces)
}

// managesShare: an admin of every space; otherwise the token must reach the share's space (a
// tenant's token never touches another tenant's shares, whoever created them) and belong to an
// admin or space_admin of it, or to the share's creator.
func managesShare(lib Library, p *authz.Principal, sh Share) bool {
	if shareLibraryAdmin(lib, p) {
		return true
	}
	if p.RequireSpace(sh.SpaceID) != nil {
		return false
	}
	return isAdmin(p) || p.Has(authz.SpaceAdmin) || (p.UserID != "" && p.UserID == sh.CreatorID)
}

// ShareDetail answers 13.3 with the share's first live entry when withFileInfo.
type ShareDetail struct {
	Share   Share
	Expired bool
	File    *Node
}

func (n *Namespace) expired(sh Share) bool {
	return !sh.Config.IsPermanent && !n.clock.Now().Before(sh.Config.ExpireAt)
}

// GetShare answers a share's detail (13.3): admin, space_admin of its space, or creator.
func (n *Namespace) GetShare(ctx context.Context, libraryID, shareID string, withFileInfo bool) (ShareDetail, error) {
	sh, _, err := n.shareAccess(ctx, libraryID, shareID)
	if err != nil {
		return ShareDetail{}, err
	}
	d := ShareDetail{Share: sh, Expired: n.expired(sh)}
	if withFileInfo {
		if d.File, err = n.firstItem(ctx, sh); err != nil {
			return ShareDetail{}, err
		}
	}
	return d, nil
}

func (n *Namespace) firstItem(ctx context.Context, sh Share) (*Node, error) {
	items, err := n.store.LiveShareItems(ctx, sh, 1)
	if err != nil || len(items) == 0 {
		return nil, err
	}
	return &items[0], nil
}

// DeleteShare removes a share (13.2): admin, space_admin of its space, or creator.
func (n *Namespace) DeleteShare(ctx context.Context, libraryID, shareID string) error {
	if _, _, err := n.shareAccess(ctx, libraryID, shareID); err != nil {
		return err
	}
	return n.store.DeleteShare(ctx, libraryID, shareID)
}

// SetShareEnabled sets the enable flags (13.6): adminEnabled only by an admin; ownerEnabled by
// whoever manages the share.
func (n *Namespace) SetShareEnabled(ctx context.Context, libraryID, shareID string, adminEnabled, ownerEnabled *bool) error {
	_, p, err := n.shareAccess(ctx, libraryID, shareID)
	if err != nil {
		return err
	}
	if adminEnabled != nil && !isAdmin(p) {
		return authz.ErrNoPermission
	}
	if adminEnabled == nil && ownerEnabled == nil {
		return invalid("name adminEnabled or ownerEnabled")
	}
	return n.store.SetShareEnabled(ctx, libraryID, shareID, adminEnabled, ownerEnabled, n.clock.Now())
}

// UpdateShare replaces the config (13.7, decision 28) against the version it read: a racing
// update makes it ErrShareUpdated (409 ShareHasBeenUpdated). shareToUsers stays as created.
func (n *Namespace) UpdateShare(ctx context.Context, libraryID, shareID string, body map[string]any) (ShareLinkInfo, error) {
	sh, _, err := n.shareAccess(ctx, libraryID, shareID)
	if err != nil {
		return ShareLinkInfo{}, err
	}
	b, err := ParseShareUpdate(body)
	if err != nil {
		return ShareLinkInfo{}, err
	}
	if len(sh.ToUsers) > 0 && !b.Config.ForbidAnonymous {
		return ShareLinkInfo{}, invalid("a share to named users keeps forbidAnonymousUser: true")
	}
	upd, err := n.store.UpdateShare(ctx, libraryID, shareID, sh.Version, b.Name, b.Config, n.clock.Now())
	if err != nil {
		return ShareLinkInfo{}, err
	}
	return n.linkOf(upd), nil
}

// ShareListQuery is 13.4's query or 13.5's body as received.
type ShareListQuery struct {
	Limit                *int32
	Marker               string
	OrderBy, OrderByType string
	CreatorID            string
	WithFileInfo         bool
	// Search only (13.5).
	Name                                                           string
	ExpireTimeStart, ExpireTimeEnd, CreateTimeStart, CreateTimeEnd any
}

// ShareListing is a page of shares with the first live entry of each when asked.
type ShareListing struct {
	Shares     []Share
	Files      []*Node
	NextMarker string
}

func shareOrder(orderBy, orderByType string) (ShareOrder, bool, error) {
	var o ShareOrder
	switch orderBy {
	case "", "createTime":
		o = ShareByCreateTime
	case "expireTime", "name", "creatorId":
		o = ShareOrder(orderBy)
	default:
		return "", false, invalid("orderBy must be createTime, expireTime, name or creatorId")
	}
	switch orderByType {
	case "", "asc":
		return o, false, nil
	case "desc":
		return o, true, nil
	}
	return "", false, invalid("orderByType must be asc or desc")
}

func shareLimit(l *int32, max int) (int, error) {
	if l == nil || *l == 0 {
		return defaultShareLimit, nil
	}
	if *l < 0 || int(*l) > max {
		return 0, invalid("limit must be from 1 to %d", max)
	}
	return int(*l), nil
}

// ListShares answers a page of shares (13.4): admins see every share of the library (creatorId
// filters), everyone else their own.
func (n *Namespace) ListShares(ctx context.Context, libraryID string, q ShareListQuery) (ShareListing, error) {
	r, err := n.begin(ctx, libraryID)
	if err != nil {
		return ShareListing{}, err
	}
	p, err := r.needPrincipal()
	if err != nil {
		return ShareListing{}, err
	}
	sq := ShareQuery{Marker: q.Marker, CreatorID: q.CreatorID}
	if !shareLibraryAdmin(r.lib, p) {
		if p.UserID == "" || (q.CreatorID != "" && q.CreatorID != p.UserID) {
			return ShareListing{}, authz.ErrNoPermission
		}
		sq.CreatorID = p.UserID
		if !p.AllSpaces {
			// Only the shares of the spaces the token reaches (none for a token without spaces).
			sq.SpaceIDs = append([]string{}, p.SpaceIDs...)
		}
	}
	if sq.OrderBy, sq.Desc, err = shareOrder(q.OrderBy, q.OrderByType); err != nil {
		return ShareListing{}, err
	}
	if sq.Limit, err = shareLimit(q.Limit, maxShareListLimit); err != nil {
		return ShareListing{}, err
	}
	return n.listShares(ctx, libraryID, sq, q.WithFileInfo)
}

func (n *Namespace) listShares(ctx context.Context, libraryID string, sq ShareQuery, withFiles bool) (ShareListing, error) {
	page, err := n.store.ListShares(ctx, libraryID, sq)
	if err != nil {
		return ShareListing{}, err
	}
	l := ShareListing{Shares: page.Shares, NextMarker: page.NextMarker}
	if withFiles {
		for _, sh := range page.Shares {
			f, err := n.firstItem(ctx, sh)
			if err != nil {
				return ShareListing{}, err
			}
			l.Files = append(l.Files, f)
		}
	}
	return l, nil
}

// SearchShares answers 13.5: admins only (else 403 NoPermission).
func (n *Namespace) SearchShares(ctx context.Context, libraryID string, q ShareListQuery) (ShareListing, error) {
	r, err := n.begin(ctx, libraryID)
	if err != nil {
		return ShareListing{}, err
	}
	p, err := r.needPrincipal()
	if err != nil {
		return ShareListing{}, err
	}
	if !shareLibraryAdmin(r.lib, p) {
		return ShareListing{}, authz.ErrNoPermission
	}
	sq := ShareQuery{Marker: q.Marker, CreatorID: q.CreatorID, NameLike: q.Name}
	if sq.OrderBy, sq.Desc, err = shareOrder(q.OrderBy, q.OrderByType); err != nil {
		return ShareListing{}, err
	}
	if sq.Limit, err = shareLimit(q.Limit, maxShareSearch); err != nil {
		return ShareListing{}, err
	}
	timeOf := func(key string, v any) (*time.Time, error) {
		if v == nil {
			return nil, nil
		}
		t, err := parseISO(key, v)
		return &t, err
	}
	if sq.ExpireFrom, err = timeOf("expireTimeStart", q.ExpireTimeStart); err != nil {
		return ShareListing{}, err
	}
	if sq.ExpireTo, err = timeOf("expireTimeEnd", q.ExpireTimeEnd); err != nil {
		return ShareListing{}, err
	}
	if sq.CreatedFrom, err = timeOf("createTimeStart", q.CreateTimeStart); err != nil {
		return ShareListing{}, err
	}
	if sq.CreatedTo, err = timeOf("createTimeEnd", q.CreateTimeEnd); err != nil {
		return ShareListing{}, err
	}
	if (sq.ExpireFrom != nil && sq.ExpireTo != nil && sq.ExpireTo.Before(*sq.ExpireFrom)) ||
		(sq.CreatedFrom != nil && sq.CreatedTo != nil && sq.CreatedTo.Before(*sq.CreatedFrom)) {
		return ShareListing{}, invalid("a time range's end must not be before its start")
	}
	return n.listShares(ctx, libraryID, sq, false)
}

// ---- visitor side

// SharePublic is 13.8's answer.
type SharePublic struct {
	Share    Share
	Expired  bool
	FileName *string
	Domains  []string
}

// ShareURLDetail answers 13.8 without credentials: 200 with the flags even when the share is
// disabled or expired, so the page can explain itself; never the extraction code, and a file
// name only for a single-file share.
func (n *Namespace) ShareURLDetail(ctx context.Context, code string) (SharePublic, error) {
	sh, err := n.store.GetShareByCode(ctx, code)
	if err != nil {
		return SharePublic{}, err
	}
	out := SharePublic{Share: sh, Expired: n.expired(sh), Domains: n.linkOf(sh).Domains}
	if sh.ItemCount == 1 {
		if f, err := n.firstItem(ctx, sh); err != nil {
			return SharePublic{}, err
		} else if f != nil && !f.IsDir() {
			out.FileName = &f.Name
		}
	}
	return out, nil
}

// visitable refuses a disabled or expired share.
func (n *Namespace) visitable(sh Share) error {
	if !sh.AdminEnabled || !sh.OwnerEnabled {
		return ErrShareDisabled
	}
	if n.expired(sh) {
		return ErrShareExpired
	}
	return nil
}

// ShareVerify is 13.9's body as received (ExtractionCode nil = absent).
type ShareVerify struct {
	ExtractionCode *string
	LibraryID      string
	AccessToken    string
	DeviceID       string
}

// VerifyExtractionCode checks a visitor's extraction code (13.9) and mints a share access token.
// Order: unknown share → 404; the per-address bound → 429; disabled/expired → 403; the share's
// wrong-code window full → 429; wrong code → 403 ExtractionCodeInvalid (counted); then the
// visitor's own token when the share forbids anonymous visitors, named users and userLimit.
func (n *Namespace) VerifyExtractionCode(ctx context.Context, code string, b ShareVerify) (string, time.Time, error) {
	sh, err := n.store.GetShareByCode(ctx, code)
	if err != nil {
		return "", time.Time{}, err
	}
	// Only wrong codes spend the address's budget: a visitor who mistyped is not locked out of
	// the right code while the bucket holds an event (docs/shares.md, "Rate limits").
	addr := ratelimit.AddressKey(reqmeta.Incoming(ctx, reqmeta.ClientAddress))
	if !n.shareLimits.wrongCodes.Available(addr) {
		return "", time.Time{}, ErrShareRateLimited
	}
	if err := n.visitable(sh); err != nil {
		return "", time.Time{}, err
	}
	now := n.clock.Now()
	if sh.FailedCodes >= WrongCodesPerWindow && now.Sub(sh.FailedWindowStart) < WrongCodeWindow {
		return "", time.Time{}, ErrShareRateLimited
	}
	if b.ExtractionCode == nil {
		return "", time.Time{}, invalid("extractionCode is required (\"\" when the share has none)")
	}
	// Compare digests, so neither the content nor the length of the code leaks through timing.
	given, want := sha256.Sum256([]byte(*b.ExtractionCode)), sha256.Sum256([]byte(sh.Config.ExtractionCode))
	if subtle.ConstantTimeCompare(given[:], want[:]) != 1 {
		n.shareLimits.wrongCodes.Allow(addr)
		if _, err := n.store.RecordWrongCode(ctx, sh.PK, now, WrongCodeWindow); err != nil {
			return "", time.Time{}, err
		}
		return "", time.Time{}, ErrExtractionCodeInvalid
	}
	userID := ""
	if sh.Config.ForbidAnonymous {
		if b.LibraryID != sh.LibraryID || b.AccessToken == "" {
			return "", time.Time{}, authz.ErrInvalidAccessToken
		}
		// The visitor's own token, alone: no library secret, no acting user.
		vctx := metadata.NewIncomingContext(ctx, metadata.Pairs(reqmeta.AccessToken, b.AccessToken))
		p, err := n.auth.Authenticate(vctx, sh.LibraryID)
		if err != nil {
			return "", time.Time{}, authz.ErrInvalidAccessToken
		}
		userID = p.UserID
		if len(sh.ToUsers) > 0 && !slices.Contains(sh.ToUsers, userID) {
			return "", time.Time{}, authz.ErrNoPermission
		}
		if userID != "" {
			if err := n.store.AddShareVisitor(ctx, sh.PK, userID, sh.Config.UserLimit, now); err != nil {
				return "", time.Time{}, err
			}
		} else if sh.Config.UserLimit > 0 {
			return "", time.Time{}, authz.ErrNoPermission // a visitor without a user id cannot be counted
		}
	}
	if n.shares.Minter == nil {
		return "", time.Time{}, errors.New("share tokens: no minter configured")
	}
	return n.shares.Minter.MintShareToken(ctx, sh.LibraryID, sh.ShareID, userID, b.DeviceID)
}

// visitShareAt reads the visitor's share and what chain names in it in one read (VisitShare),
// then judges the visitor's share access token (unless the caller verified its own signed URL:
// checkToken false) and the share's state before anything the chain found is answered: a caller
// without a valid token learns nothing about the chain, and since every call reads the share, a
// disabled, expired or deleted share refuses at once.
func (n *Namespace) visitShareAt(ctx context.Context, code string, chain []int64, itemLimit int, checkToken bool) (ShareVisit, error) {
	v, err := n.store.VisitShare(ctx, code, chain, itemLimit)
	if err != nil {
		return ShareVisit{}, err
	}
	if checkToken {
		if _, err := n.auth.AuthenticateShare(ctx, v.Share.LibraryID, v.Share.ShareID); err != nil {
			return ShareVisit{}, err
		}
	}
	return v, n.visitable(v.Share)
}

// ShareFilesQuery is 13.10's query as received.
type ShareFilesQuery struct {
	Inodes               string
	Limit                *int32
	Marker               string
	OrderBy, OrderByType string
}

// ShareFiles is a page of a share's listing.
type ShareFiles struct {
	Share      Share
	Entries    []Node
	NextMarker string
}

// ListShareFiles answers 13.10: the share's items at the root, else the children of the
// directory the chain ends at.
func (n *Namespace) ListShareFiles(ctx context.Context, code string, q ShareFilesQuery) (ShareFiles, error) {
	chain, chainErr := ParseInodeChain(q.Inodes)
	v, err := n.visitShareAt(ctx, code, chain, maxShareItems, true)
	if err != nil {
		return ShareFiles{}, err
	}
	sh := v.Share
	if !n.shareLimits.visits.Allow(sh.ShareID, reqmeta.Incoming(ctx, reqmeta.ClientAddress)) {
		return ShareFiles{}, ErrShareRateLimited
	}
	limit := defaultShareLimit
	if q.Limit != nil && *q.Limit != 0 {
		if *q.Limit < 0 || *q.Limit > maxShareFilesLimit {
			return ShareFiles{}, ErrInvalidParameter
		}
		limit = int(*q.Limit)
	}
	var order OrderBy
	switch q.OrderBy {
	case "", "name":
		order = OrderName
	case "size":
		order = OrderSize
	case "updatedAt":
		order = OrderModificationTime
	default:
		return ShareFiles{}, ErrInvalidParameter
	}
	desc := false
	switch q.OrderByType {
	case "", "asc":
	case "desc":
		desc = true
	default:
		return ShareFiles{}, ErrInvalidParameter
	}
	if chainErr != nil {
		return ShareFiles{}, chainErr
	}
	if v.ChainErr != nil {
		return ShareFiles{}, v.ChainErr
	}
	out := ShareFiles{Share: sh}
	if len(chain) == 0 {
		items := v.Items
		if len(items) == 0 {
			return ShareFiles{}, ErrShareFileEmpty
		}
		sortRoot(items, order, desc)
		if out.Entries, out.NextMarker, err = pageByOffset(items, "r", q.Marker, limit); err != nil {
			return ShareFiles{}, err
		}
		return out, nil
	}
	dir := v.End
	if !dir.IsDir() {
		return ShareFiles{}, invalid("the chain must end with a directory to list")
	}
	page, err := n.store.List(ctx, sh.LibraryID, sh.SpaceID, dir.Inode, ListOptions{OrderBy: order, Desc: desc, Marker: q.Marker, Limit: limit})
	if err != nil {
		return ShareFiles{}, err
	}
	out.Entries, out.NextMarker = page.Entries, page.NextMarker
	return out, nil
}

// sortRoot orders a share's items as a directory listing would: directories first.
func sortRoot(items []Node, order OrderBy, desc bool) {
	slices.SortStableFunc(items, func(a, b Node) int {
		if a.IsDir() != b.IsDir() {
			if a.IsDir() {
				return -1
			}
			return 1
		}
		var c int
		switch order {
		case OrderSize:
			c = cmp.Compare(a.Size, b.Size)
		case OrderModificationTime:
			c = a.ModifiedAt.Compare(b.ModifiedAt)
		default:
			c = strings.Compare(a.Name, b.Name)
		}
		if c == 0 {
			c = cmp.Compare(a.Inode, b.Inode)
		}
		if desc {
			c = -c
		}
		return c
	})
}

// ---- the object service's resolver (ShareResolverService)

// ResolveSharedFile answers the file a visitor fetches (13.11): the chain must end with a
// file of the share; purpose preview needs canPreview, download canDownload; a success counts,
// and on a single-file share refuses past the limit.
func (n *Namespace) ResolveSharedFile(ctx context.Context, code, inodes string, purpose SharePurpose) (Share, Resolved, error) {
	chain, chainErr := ParseInodeChain(inodes)
	v, err := n.visitShareAt(ctx, code, chain, 0, true)
	if err != nil {
		return Share{}, Resolved{}, err
	}
	sh := v.Share
	refused, allowed, limit := ErrCannotPreview, sh.Config.CanPreview, sh.Config.PreviewLimit
	switch purpose {
	case PurposePreview:
	case PurposeDownload:
		refused, allowed, limit = ErrCannotDownload, sh.Config.CanDownload, sh.Config.DownloadLimit
	default:
		return Share{}, Resolved{}, invalid("purpose must be preview or download")
	}
	if !allowed {
		return Share{}, Resolved{}, refused
	}
	if chainErr != nil {
		return Share{}, Resolved{}, chainErr
	}
	if len(chain) == 0 {
		return Share{}, Resolved{}, ErrNotInShare
	}
	if v.ChainErr != nil {
		return Share{}, Resolved{}, v.ChainErr
	}
	end := v.End
	if end.IsDir() {
		return Share{}, Resolved{}, invalid("the chain must end with a file")
	}
	// A file is served as the chain found it; the visitor never learns the owner's path.
	res := Resolved{Node: end}
	if end.IsSymlink() {
		// A link is followed to its target only when the target is inside the share too: a
		// link must not hand visitors a file the owner did not share (docs/shares.md).
		path, err := n.store.PathOf(ctx, sh.LibraryID, sh.SpaceID, end.Inode)
		if err != nil {
			return Share{}, Resolved{}, ErrNotInShare
		}
		if res, err = n.store.ResolveFile(ctx, sh.LibraryID, sh.SpaceID, path); err != nil {
			return Share{}, Resolved{}, ErrNotInShare
		}
		res.Path, res.LinkPath = nil, nil
		if inside, err := n.store.ShareHolds(ctx, sh, res.Node.Inode); err != nil {
			return Share{}, Resolved{}, err
		} else if !inside {
			return Share{}, Resolved{}, ErrNotInShare
		}
	}
	// Limits apply to single-file shares only (13.0), and the counters exist for the limits:
	// a use is counted, atomically against its limit, only while one applies (docs/shares.md),
	// so an unlimited share's downloads cost no write.
	if sh.ItemCount == 1 && len(chain) == 1 && limit > 0 {
		if err := n.store.CountShareUse(ctx, sh.PK, purpose, limit); errors.Is(err, ErrShareLimitReached) {
			return Share{}, Resolved{}, refused
		} else if err != nil {
			return Share{}, Resolved{}, err
		}
	}
	return sh, res, nil
}

// pageByOffset answers the page of items a marker names and the next page's marker ("" after
// the last page). A marker is kind followed by the offset of its page's first item, so a
// marker of one listing kind is refused by another (404 MarkerNotFound).
func pageByOffset[T any](items []T, kind, marker string, limit int) ([]T, string, error) {
	start := 0
	if marker != "" {
		n, err := strconv.Atoi(strings.TrimPrefix(marker, kind))
		if err != nil || !strings.HasPrefix(marker, kind) || n < 0 || n > len(items) {
			return nil, "", ErrMarkerNotFound
		}
		start = n
	}
	end := min(start+limit, len(items))
	next := ""
	if end < len(items) {
		next = kind + strconv.Itoa(end)
	}
	return items[start:end], next, nil
}
