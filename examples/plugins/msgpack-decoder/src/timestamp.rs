//! The timestamp extension (type -1) as RFC 3339 text.
//!
//! Three layouts exist: 4 bytes (unsigned seconds), 8 bytes (30 bits of
//! nanoseconds, then 34 bits of unsigned seconds) and 12 bytes (32 bits of
//! nanoseconds, then signed 64-bit seconds), all big-endian, seconds since
//! 1970-01-01T00:00:00Z. Text is `YYYY-MM-DDTHH:MM:SS[.fraction]Z`, the
//! fraction without trailing zeros.

use std::io::Write;

/// The extension type of timestamps.
pub(crate) const TYPE: i8 = -1;

/// 0000-01-01T00:00:00Z and 9999-12-31T23:59:59Z: what RFC 3339 can write.
const MIN_SECS: i64 = -62_167_219_200;
const MAX_SECS: i64 = 253_402_300_799;

fn be(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0, |acc, &b| (acc << 8) | u64::from(b))
}

/// Seconds and nanoseconds of an extension value, when it is a timestamp
/// that RFC 3339 can write: type -1, a timestamp's length, nanoseconds up
/// to 999,999,999, years 0000 to 9999.
pub(crate) fn parse(t: i8, data: &[u8]) -> Option<(i64, u32)> {
    if t != TYPE {
        return None;
    }
    let (secs, nanos) = match data.len() {
        4 => (be(data) as i64, 0),
        8 => {
            let v = be(data);
            ((v & 0x3_ffff_ffff) as i64, (v >> 34) as u32)
        }
        12 => (be(&data[4..]) as i64, be(&data[..4]) as u32),
        _ => return None,
    };
    (nanos < 1_000_000_000 && (MIN_SECS..=MAX_SECS).contains(&secs)).then_some((secs, nanos))
}

/// The civil date (proleptic Gregorian) of a day counted from 1970-01-01.
fn civil(days: i64) -> (i64, i64, i64) {
    // Count from 0000-03-01, so that a leap day is the last day of its
    // year, in 400-year eras of 146,097 days.
    let d = days + 719_468;
    let era = d.div_euclid(146_097);
    let day_of_era = d.rem_euclid(146_097);
    // Whole years into the era: take out the leap days that came before.
    let year_of_era =
        (day_of_era - day_of_era / 1_460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    // Months from March: 31, 30, 31, 30, 31, 31, 30, 31, 30, 31, 31, 28/29.
    let m = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * m + 2) / 5 + 1;
    let month = if m < 10 { m + 3 } else { m - 9 };
    let year = era * 400 + year_of_era + i64::from(month <= 2);
    (year, month, day)
}

/// Writes the RFC 3339 text of a timestamp returned by [`parse`].
pub(crate) fn write(w: &mut impl Write, secs: i64, nanos: u32) {
    let (year, month, day) = civil(secs.div_euclid(86_400));
    let t = secs.rem_euclid(86_400);
    let (h, m, s) = (t / 3600, t / 60 % 60, t % 60);
    // Writing to memory cannot fail.
    let _ = write!(w, "{year:04}-{month:02}-{day:02}T{h:02}:{m:02}:{s:02}");
    if nanos > 0 {
        let mut frac = nanos;
        let mut width = 9;
        while frac.is_multiple_of(10) {
            frac /= 10;
            width -= 1;
        }
        let _ = write!(w, ".{frac:0width$}");
    }
    let _ = w.write_all(b"Z");
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rfc3339(secs: i64, nanos: u32) -> Option<String> {
        if !(MIN_SECS..=MAX_SECS).contains(&secs) {
            return None;
        }
        let mut v = Vec::new();
        write(&mut v, secs, nanos);
        String::from_utf8(v).ok()
    }

    #[test]
    fn known_dates() {
        for (secs, nanos, want) in [
            (0, 0, "1970-01-01T00:00:00Z"),
            (-1, 0, "1969-12-31T23:59:59Z"),
            (1_700_000_000, 0, "2023-11-14T22:13:20Z"),
            (1_700_000_000, 123_456_789, "2023-11-14T22:13:20.123456789Z"),
            (1_700_000_000, 500_000_000, "2023-11-14T22:13:20.5Z"),
            (951_782_400, 0, "2000-02-29T00:00:00Z"),
            (978_307_199, 0, "2000-12-31T23:59:59Z"),
            (1_583_020_800, 0, "2020-03-01T00:00:00Z"),
            (4_102_444_800, 0, "2100-01-01T00:00:00Z"),
            (-2_208_988_800, 1_000, "1900-01-01T00:00:00.000001Z"),
            (13_569_465_600, 0, "2400-01-01T00:00:00Z"),
            (-12_219_292_800, 0, "1582-10-15T00:00:00Z"),
            (-62_135_596_800, 0, "0001-01-01T00:00:00Z"),
            (MIN_SECS, 0, "0000-01-01T00:00:00Z"),
            (MAX_SECS, 999_999_999, "9999-12-31T23:59:59.999999999Z"),
            (2_147_483_647, 0, "2038-01-19T03:14:07Z"),
            (17_179_869_183, 0, "2514-05-30T01:53:03Z"),
        ] {
            assert_eq!(rfc3339(secs, nanos).as_deref(), Some(want), "{secs}");
        }
        assert_eq!(rfc3339(MAX_SECS + 1, 0), None);
        assert_eq!(rfc3339(MIN_SECS - 1, 0), None);
        assert_eq!(rfc3339(i64::MIN, 0), None);
    }

    #[test]
    fn layouts() {
        assert_eq!(
            parse(-1, &[0x65, 0x53, 0xf1, 0x00]),
            Some((1_700_000_000, 0))
        );
        assert_eq!(parse(1, &[0x65, 0x53, 0xf1, 0x00]), None, "not type -1");
        // 8 bytes: nanoseconds 1 in the top 30 bits, seconds 1.
        assert_eq!(parse(-1, &[0, 0, 0, 0x04, 0, 0, 0, 0x01]), Some((1, 1)));
        let mut twelve = [0u8; 12];
        twelve[3] = 7;
        twelve[4..].copy_from_slice(&(-1i64).to_be_bytes());
        assert_eq!(parse(-1, &twelve), Some((-1, 7)));
        // Seconds past year 9999.
        twelve[4..].copy_from_slice(&i64::MAX.to_be_bytes());
        assert_eq!(parse(-1, &twelve), None);
        // Nanoseconds out of range; a length no layout has.
        assert_eq!(
            parse(-1, &[0x3b, 0x9a, 0xca, 0x00, 0, 0, 0, 0, 0, 0, 0, 0]),
            None
        );
        assert_eq!(parse(-1, &[0, 0]), None);
    }
}
