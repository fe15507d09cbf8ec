//! Host names and IP literals: parsing every spelling a URL parser
//! accepts, and classifying where the address points.
//!
//! IPv4 is read the way `inet_aton` and the WHATWG URL parser read it: one
//! to four parts separated by dots, each decimal, octal (leading `0`) or
//! hexadecimal (`0x`), the last part filling the remaining bytes
//! (`127.1`, `2130706433`, `0x7f.1`, `0177.0.0.1`); a last part too large
//! for its bytes is truncated, as some resolvers do (`7147006462`,
//! `0x41414141A9FEA9FE`). IPv6 is read with `::`, an embedded IPv4 tail
//! and a zone (`fe80::1%eth0`).

/// Where a host points.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Kind {
    /// A public name or address.
    Public,
    /// Private, link-local, unique-local, shared address space.
    Private,
    /// Unspecified, "this network", reserved, multicast, benchmark.
    Reserved,
    /// Loopback.
    Loopback,
    /// A name that resolves inside by convention (`localhost`,
    /// `*.internal`, `host.docker.internal`, `localtest.me`, a rebinding
    /// service with an internal address).
    Internal,
    /// A cloud metadata endpoint.
    Metadata,
}

/// What a host is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HostInfo {
    pub kind: Kind,
    /// An IP literal (v4 in any form, or v6).
    pub ip: bool,
    /// An IPv4 literal not written as four plain decimal parts, or an
    /// IPv6 literal hiding an IPv4 address (mapped, compatible, NAT64).
    pub odd_form: bool,
}

const PUBLIC_NAME: HostInfo = HostInfo {
    kind: Kind::Public,
    ip: false,
    odd_form: false,
};

/// Parses an IPv4 literal in any `inet_aton` spelling. Returns the address
/// and whether the spelling is canonical.
pub fn parse_v4(h: &[u8]) -> Option<(u32, bool)> {
    let h = h.strip_suffix(b".").unwrap_or(h);
    if h.is_empty() || h.len() > 64 {
        return None;
    }
    let mut parts = [0u64; 4];
    let mut n = 0;
    let mut canonical = true;
    for p in h.split(|&b| b == b'.') {
        if n == 4 || p.is_empty() {
            return None;
        }
        let (digits, radix) = if p.len() > 2 && (p.starts_with(b"0x") || p.starts_with(b"0X")) {
            canonical = false;
            (&p[2..], 16)
        } else if p.len() > 1 && p[0] == b'0' {
            canonical = false;
            (&p[1..], 8)
        } else {
            (p, 10)
        };
        let mut x: u64 = 0;
        for &d in digits {
            let v = match d {
                b'0'..=b'9' => u64::from(d - b'0'),
                b'a'..=b'f' => u64::from(d - b'a' + 10),
                b'A'..=b'F' => u64::from(d - b'A' + 10),
                _ => return None,
            };
            if v >= radix {
                return None;
            }
            x = x.wrapping_mul(radix).wrapping_add(v);
        }
        parts[n] = x;
        n += 1;
    }
    if n != 4 {
        canonical = false;
    }
    let mut addr: u32 = 0;
    for (k, &p) in parts[..n - 1].iter().enumerate() {
        if p > 255 {
            return None;
        }
        addr |= (p as u32) << (24 - 8 * k);
    }
    let rest_bits = 32 - 8 * (n as u32 - 1);
    let last = parts[n - 1];
    let mask: u64 = if rest_bits == 32 {
        u64::from(u32::MAX)
    } else {
        (1u64 << rest_bits) - 1
    };
    if last > mask {
        canonical = false;
    }
    addr |= (last & mask) as u32;
    Some((addr, canonical))
}

/// Parses an IPv6 literal (no brackets; a `%zone` is ignored).
pub fn parse_v6(h: &[u8]) -> Option<[u16; 8]> {
    let h = match h.iter().position(|&b| b == b'%') {
        Some(p) => &h[..p],
        None => h,
    };
    if h.len() < 2 || h.len() > 64 || !h.contains(&b':') {
        return None;
    }
    let mut head = [0u16; 8];
    let mut tail = [0u16; 8];
    let (mut nh, mut nt) = (0usize, 0usize);
    let mut gap = false;
    let (left, right) = match find2(h) {
        Some(p) => {
            gap = true;
            (&h[..p], &h[p + 2..])
        }
        None => (h, &h[h.len()..]),
    };
    groups(left, &mut head, &mut nh, !gap)?;
    if gap {
        groups(right, &mut tail, &mut nt, true)?;
    }
    if (gap && nh + nt > 7) || (!gap && nh != 8) {
        return None;
    }
    let mut out = [0u16; 8];
    out[..nh].copy_from_slice(&head[..nh]);
    out[8 - nt..].copy_from_slice(&tail[..nt]);
    Some(out)
}

fn find2(h: &[u8]) -> Option<usize> {
    h.windows(2).position(|w| w == b"::")
}

/// Reads colon-separated groups; the last may be a dotted IPv4 when
/// `v4_tail_ok`.
fn groups(s: &[u8], out: &mut [u16; 8], n: &mut usize, v4_tail_ok: bool) -> Option<()> {
    if s.is_empty() {
        return Some(());
    }
    let count = s.split(|&b| b == b':').count();
    for (k, g) in s.split(|&b| b == b':').enumerate() {
        if g.is_empty() || *n >= 8 {
            return None;
        }
        if g.contains(&b'.') {
            if k + 1 != count || !v4_tail_ok || *n > 6 {
                return None;
            }
            let (a, canonical) = parse_v4(g)?;
            if !canonical {
                return None;
            }
            out[*n] = (a >> 16) as u16;
            out[*n + 1] = a as u16;
            *n += 2;
            continue;
        }
        if g.len() > 4 {
            return None;
        }
        let mut x: u16 = 0;
        for &d in g {
            let v = match d {
                b'0'..=b'9' => d - b'0',
                b'a'..=b'f' => d - b'a' + 10,
                b'A'..=b'F' => d - b'A' + 10,
                _ => return None,
            };
            x = x << 4 | u16::from(v);
        }
        out[*n] = x;
        *n += 1;
    }
    Some(())
}

/// Where an IPv4 address points.
pub fn kind_v4(a: u32) -> Kind {
    let o = a.to_be_bytes();
    match o {
        [169, 254, 169, 254]
        | [169, 254, 170, 2]
        | [169, 254, 169, 123]
        | [100, 100, 100, 200]
        | [192, 0, 0, 192]
        | [168, 63, 129, 16] => Kind::Metadata,
        [127, ..] => Kind::Loopback,
        [0, ..] => Kind::Reserved,
        [10, ..] | [192, 168, ..] | [169, 254, ..] => Kind::Private,
        [172, b, ..] if (16..32).contains(&b) => Kind::Private,
        [100, b, ..] if (64..128).contains(&b) => Kind::Private,
        [192, 0, 0, _] => Kind::Reserved,
        [198, 18 | 19, ..] => Kind::Reserved,
        [a, ..] if a >= 224 => Kind::Reserved,
        _ => Kind::Public,
    }
}

/// Where an IPv6 address points, and whether it hides an IPv4 address.
pub fn kind_v6(w: [u16; 8]) -> (Kind, bool) {
    let v4 = (u32::from(w[6]) << 16) | u32::from(w[7]);
    if w == [0; 8] {
        return (Kind::Reserved, false);
    }
    if w == [0, 0, 0, 0, 0, 0, 0, 1] {
        return (Kind::Loopback, false);
    }
    if w[..5] == [0; 5] && (w[5] == 0xffff || w[5] == 0) {
        return (kind_v4(v4), true); // mapped, compatible
    }
    if w[..6] == [0x64, 0xff9b, 0, 0, 0, 0] {
        return (kind_v4(v4), true); // NAT64
    }
    if w == [0xfd00, 0x0ec2, 0, 0, 0, 0, 0, 0x254] {
        return (Kind::Metadata, false);
    }
    let top = w[0];
    let kind = if top & 0xffc0 == 0xfe80 || top & 0xfe00 == 0xfc00 || top & 0xffc0 == 0xfec0 {
        Kind::Private
    } else if top & 0xe000 == 0x2000 {
        Kind::Public
    } else {
        Kind::Reserved
    };
    (kind, false)
}

/// Names of cloud metadata services (sorted).
const METADATA_NAMES: &[&str] = &[
    "instance-data",
    "instance-data.ec2.internal",
    "metadata",
    "metadata.goog",
    "metadata.google.internal",
    "metadata.packet.net",
    "metadata.platformequinix.com",
    "metadata.tencentyun.com",
];

/// Names that resolve to the local machine or an internal network by
/// convention (sorted).
const INTERNAL_NAMES: &[&str] = &[
    "broadcasthost",
    "gateway.docker.internal",
    "host.containers.internal",
    "host.docker.internal",
    "ip6-localhost",
    "ip6-loopback",
    "ipv6-localhost",
    "ipv6-loopback",
    "kubernetes",
    "kubernetes.default",
    "kubernetes.default.svc",
    "kubernetes.docker.internal",
    "lacolhost.com",
    "localdomain",
    "localhost",
    "localhost.localdomain",
    "localhost4",
    "localhost4.localdomain4",
    "localhost6",
    "localhost6.localdomain6",
    "localtest.me",
    "lvh.me",
    "vcap.me",
];

/// Suffixes of internal names (each starts with a dot).
const INTERNAL_SUFFIXES: &[&str] = &[
    ".cluster.local",
    ".corp",
    ".home.arpa",
    ".internal",
    ".intranet",
    ".lan",
    ".local",
    ".localdomain",
    ".localhost",
    ".localtest.me",
    ".lvh.me",
    ".svc",
    ".vcap.me",
];

/// Wildcard DNS services that answer with the address written in the
/// name (`10.0.0.1.nip.io`, `app-127-0-0-1.sslip.io`, `7f000001.nip.io`).
const REBIND_SUFFIXES: &[&str] = &[".nip.io", ".sslip.io", ".traefik.me", ".xip.io"];

/// A DNS rebinding service whose names always may answer internally.
const REBINDER: &str = ".rbndr.us";

fn has(table: &[&str], s: &[u8]) -> bool {
    crate::lookup(table, s)
}

/// For each length, the first letters (bits of their low five bits) of
/// the dotless names of `METADATA_NAMES` and `INTERNAL_NAMES`.
static LABEL_FIRST: [u32; 33] = label_first();

const fn label_first() -> [u32; 33] {
    let mut t = [0u32; 33];
    let tables: [&[&str]; 2] = [METADATA_NAMES, INTERNAL_NAMES];
    let mut k = 0;
    while k < tables.len() {
        let mut i = 0;
        while i < tables[k].len() {
            let e = tables[k][i].as_bytes();
            let mut dotless = true;
            let mut j = 0;
            while j < e.len() {
                dotless &= e[j] != b'.';
                j += 1;
            }
            if dotless && e.len() <= 32 {
                t[e.len()] |= 1 << (e[0] & 31);
            }
            i += 1;
        }
        k += 1;
    }
    t
}

/// Whether a single label (letters, digits, `-`, `_`; any case) names a
/// metadata service or an internal host by itself (`localhost`,
/// `metadata`, `kubernetes`). Every other label classifies as a public
/// name or, all digits, as an address no plain spelling writes.
pub fn named_internal(label: &[u8]) -> bool {
    let n = label.len();
    if n == 0 || n > 32 || LABEL_FIRST[n] & (1 << ((label[0] | 0x20) & 31)) == 0 {
        return false;
    }
    let mut buf = [0u8; 32];
    let low = &mut buf[..n];
    low.copy_from_slice(label);
    low.make_ascii_lowercase();
    has(METADATA_NAMES, low) || has(INTERNAL_NAMES, low)
}

/// Classifies a normalised host: lower-case ASCII, without brackets,
/// userinfo or port.
pub fn classify(h: &[u8]) -> HostInfo {
    let h = h.strip_suffix(b".").unwrap_or(h);
    if h.is_empty() {
        return PUBLIC_NAME;
    }
    if h.contains(&b':') {
        return match parse_v6(h) {
            Some(w) => {
                let (kind, odd) = kind_v6(w);
                HostInfo {
                    kind,
                    ip: true,
                    odd_form: odd,
                }
            }
            None => PUBLIC_NAME,
        };
    }
    if h[0].is_ascii_digit() {
        if let Some((a, canonical)) = parse_v4(h) {
            return HostInfo {
                kind: kind_v4(a),
                ip: true,
                odd_form: !canonical,
            };
        }
    }
    // Every suffix ends with one of these labels.
    let suffixed = suffix_label(h);
    // Every name of the tables starts with one of these.
    let named = matches!(h[0], b'b' | b'g' | b'h' | b'i' | b'k' | b'l' | b'm' | b'v');
    let kind = if named && has(METADATA_NAMES, h) {
        Kind::Metadata
    } else if (named && has(INTERNAL_NAMES, h))
        || (suffixed
            && (INTERNAL_SUFFIXES.iter().any(|s| h.ends_with(s.as_bytes()))
                || h.ends_with(REBINDER.as_bytes())))
    {
        Kind::Internal
    } else if let Some(k) = REBIND_SUFFIXES
        .iter()
        .filter(|_| suffixed)
        .find(|s| h.ends_with(s.as_bytes()))
        .and_then(|s| rebind(&h[..h.len() - s.len()]))
    {
        k
    } else {
        Kind::Public
    };
    HostInfo {
        kind,
        ip: false,
        odd_form: false,
    }
}

/// Whether the last label of a name is the last label of one of the
/// suffixes (`INTERNAL_SUFFIXES`, `REBIND_SUFFIXES`, `REBINDER`).
fn suffix_label(h: &[u8]) -> bool {
    let last = match h.iter().rposition(|&b| b == b'.') {
        Some(p) => &h[p + 1..],
        None => h,
    };
    matches!(
        last,
        b"arpa"
            | b"corp"
            | b"internal"
            | b"intranet"
            | b"io"
            | b"lan"
            | b"local"
            | b"localdomain"
            | b"localhost"
            | b"me"
            | b"svc"
            | b"us"
    )
}

/// The address a wildcard-DNS name carries: the last four dotted labels,
/// four dash-separated numbers at the end of the last label, or eight hex
/// digits.
fn rebind(prefix: &[u8]) -> Option<Kind> {
    // Dotted: `a.b.10.0.0.1`.
    let mut ends = [0usize; 5];
    let mut n = 0;
    let mut pos = prefix.len();
    ends[0] = pos;
    while n < 4 {
        let start = prefix[..pos]
            .iter()
            .rposition(|&b| b == b'.')
            .map_or(0, |p| p + 1);
        let label = &prefix[start..pos];
        if label.is_empty() || !label.iter().all(u8::is_ascii_digit) {
            break;
        }
        n += 1;
        ends[n] = start;
        if start == 0 {
            break;
        }
        pos = start - 1;
    }
    if n == 4 {
        if let Some((a, _)) = parse_v4(&prefix[ends[4]..]) {
            return Some(kind_v4(a));
        }
    }
    let label = match prefix.iter().rposition(|&b| b == b'.') {
        Some(p) => &prefix[p + 1..],
        None => prefix,
    };
    // Dashed: `app-10-0-0-1`.
    let mut nums = [0u32; 4];
    let mut k = 0;
    for part in label.rsplit(|&b| b == b'-') {
        if k == 4 {
            break;
        }
        if part.is_empty() || part.len() > 3 || !part.iter().all(u8::is_ascii_digit) {
            break;
        }
        nums[3 - k] = part.iter().fold(0, |a, &d| a * 10 + u32::from(d - b'0'));
        k += 1;
    }
    if k == 4 && nums.iter().all(|&x| x <= 255) {
        return Some(kind_v4(
            nums[0] << 24 | nums[1] << 16 | nums[2] << 8 | nums[3],
        ));
    }
    // Hex: `7f000001` or `app-7f000001`.
    let hex = label.rsplit(|&b| b == b'-').next().unwrap_or(label);
    if hex.len() == 8 && hex.iter().all(u8::is_ascii_hexdigit) {
        let a = hex.iter().fold(0u32, |a, &d| {
            a << 4
                | u32::from(if d.is_ascii_digit() {
                    d - b'0'
                } else {
                    (d | 0x20) - b'a' + 10
                })
        });
        return Some(kind_v4(a));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `named_internal` keeps every single-label entry, and its first-byte
    /// filter matches the tables.
    #[test]
    fn single_labels() {
        for e in METADATA_NAMES.iter().chain(INTERNAL_NAMES) {
            let single = e
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
            if single {
                assert!(named_internal(e.as_bytes()), "{e}");
                assert!(named_internal(e.to_ascii_uppercase().as_bytes()), "{e}");
                assert_ne!(classify(e.as_bytes()).kind, Kind::Public);
            }
        }
        assert!(!named_internal(b"footwear"));
        for e in METADATA_NAMES.iter().chain(INTERNAL_NAMES) {
            assert!(b"bghiklmv".contains(&e.as_bytes()[0]), "{e}");
        }
        for s in INTERNAL_SUFFIXES
            .iter()
            .chain(REBIND_SUFFIXES)
            .chain([&REBINDER])
        {
            assert!(suffix_label(s.as_bytes()), "{s}");
        }
        assert!(!named_internal(b"2"));
        assert!(!named_internal(b""));
        assert!(!named_internal(b"London"));
        assert_eq!(classify(b"footwear").kind, Kind::Public);
    }

    fn k(h: &str) -> (Kind, bool) {
        let i = classify(h.as_bytes());
        (i.kind, i.odd_form)
    }

    #[test]
    fn tables_are_sorted() {
        for t in [METADATA_NAMES, INTERNAL_NAMES] {
            let mut s = t.to_vec();
            s.sort_unstable();
            assert_eq!(s, t);
        }
    }

    #[test]
    fn ipv4_spellings() {
        assert_eq!(k("127.0.0.1"), (Kind::Loopback, false));
        assert_eq!(k("127.1"), (Kind::Loopback, true));
        assert_eq!(k("2130706433"), (Kind::Loopback, true));
        assert_eq!(k("0x7f000001"), (Kind::Loopback, true));
        assert_eq!(k("0x7f.0x0.0x0.0x1"), (Kind::Loopback, true));
        assert_eq!(k("0177.0.0.1"), (Kind::Loopback, true));
        assert_eq!(k("017700000001"), (Kind::Loopback, true));
        assert_eq!(k("2852039166"), (Kind::Metadata, true));
        assert_eq!(k("7147006462"), (Kind::Metadata, true));
        assert_eq!(k("0x41414141a9fea9fe"), (Kind::Metadata, true));
        assert_eq!(k("169.254.43518"), (Kind::Metadata, true));
        assert_eq!(k("169.16689662"), (Kind::Metadata, true));
        assert_eq!(k("0251.00376.000251.0000376"), (Kind::Metadata, true));
        assert_eq!(k("0"), (Kind::Reserved, true));
        assert_eq!(k("0.0.0.0"), (Kind::Reserved, false));
        assert_eq!(k("10.1.2.3"), (Kind::Private, false));
        assert_eq!(k("172.31.0.1"), (Kind::Private, false));
        assert_eq!(k("172.32.0.1"), (Kind::Public, false));
        assert_eq!(k("8.8.8.8"), (Kind::Public, false));
        assert_eq!(k("123456789"), (Kind::Public, true));
        assert_eq!(k("1.2.3.4.5"), (Kind::Public, false));
        assert_eq!(k("08.1.1.1"), (Kind::Public, false));
        assert_eq!(k("256.1.1.1"), (Kind::Public, false));
    }

    #[test]
    fn ipv6_spellings() {
        assert_eq!(k("::1"), (Kind::Loopback, false));
        assert_eq!(k("::"), (Kind::Reserved, false));
        assert_eq!(k("::ffff:127.0.0.1"), (Kind::Loopback, true));
        assert_eq!(k("::ffff:7f00:1"), (Kind::Loopback, true));
        assert_eq!(k("0:0:0:0:0:ffff:a9fe:a9fe"), (Kind::Metadata, true));
        assert_eq!(k("0:0:0:0:0:0:169.254.169.254"), (Kind::Metadata, true));
        assert_eq!(k("fd00:ec2::254"), (Kind::Metadata, false));
        assert_eq!(k("fe80::1%zone1"), (Kind::Private, false));
        assert_eq!(k("2001:db8::1"), (Kind::Public, false));
        assert_eq!(k("a::"), (Kind::Reserved, false));
        assert_eq!(
            k("dead:beef:dead::beef:dead:beef:dead"),
            (Kind::Reserved, false)
        );
        assert_eq!(k("1:2:3:4:5:6:7:8:9"), (Kind::Public, false));
        assert_eq!(k(":::"), (Kind::Public, false));
    }

    #[test]
    fn names() {
        assert_eq!(k("localhost"), (Kind::Internal, false));
        assert_eq!(k("api.localhost"), (Kind::Internal, false));
        assert_eq!(k("metadata.google.internal"), (Kind::Metadata, false));
        assert_eq!(k("db.svc.cluster.local"), (Kind::Internal, false));
        assert_eq!(k("10.0.0.1.nip.io"), (Kind::Private, false));
        assert_eq!(k("app-127-0-0-1.sslip.io"), (Kind::Loopback, false));
        assert_eq!(k("7f000001.nip.io"), (Kind::Loopback, false));
        assert_eq!(k("app.8.8.8.8.nip.io"), (Kind::Public, false));
        assert_eq!(k("example.com"), (Kind::Public, false));
        assert_eq!(k("mylocalhost"), (Kind::Public, false));
    }
}
