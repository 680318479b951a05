//! Time-based one-time passwords (RFC 6238 over RFC 4226's HOTP) with
//! HMAC-SHA-1, 6 digits and 30-second steps: what every authenticator app
//! reads from an `otpauth://` URI.

use hmac::{Hmac, Mac};
use sha1::Sha1;
use subtle::ConstantTimeEq;

/// Seconds per time step.
pub const STEP: u64 = 30;
/// Digits of a code.
pub const DIGITS: u32 = 6;
/// Steps accepted either side of now, for clocks that drift.
pub const DRIFT: u64 = 1;
/// Bytes of a secret (160 bits, RFC 4226's recommendation).
pub const SECRET_BYTES: usize = 20;

/// The HOTP value of `counter` (RFC 4226, section 5.3), `digits` long.
pub fn hotp(secret: &[u8], counter: u64, digits: u32) -> String {
    // HMAC takes a key of any length.
    let mut mac = Hmac::<Sha1>::new_from_slice(secret).unwrap_or_else(|_| unreachable!());
    mac.update(&counter.to_be_bytes());
    let hash = mac.finalize().into_bytes();
    let offset = usize::from(hash[hash.len() - 1] & 0x0f);
    let truncated = u32::from_be_bytes([
        hash[offset] & 0x7f,
        hash[offset + 1],
        hash[offset + 2],
        hash[offset + 3],
    ]);
    let value = u64::from(truncated) % 10u64.pow(digits);
    format!("{value:0width$}", width = digits as usize)
}

/// The time step of a Unix time.
pub fn step_of(unix_time: u64) -> u64 {
    unix_time / STEP
}

/// The code of a secret at a Unix time.
pub fn code(secret: &[u8], unix_time: u64, digits: u32) -> String {
    hotp(secret, step_of(unix_time), digits)
}

/// The step whose code `submitted` is, within [`DRIFT`] steps of `unix_time`
/// and later than `last_used` (a code is accepted once). Every candidate is
/// compared, in constant time, so timing tells nothing about which matched.
pub fn matching_step(
    secret: &[u8],
    submitted: &str,
    unix_time: u64,
    last_used: Option<u64>,
) -> Option<u64> {
    let submitted: String = submitted.chars().filter(|c| !c.is_whitespace()).collect();
    let now = step_of(unix_time);
    let mut found = None;
    for step in now.saturating_sub(DRIFT)..=now + DRIFT {
        let matches: bool = hotp(secret, step, DIGITS)
            .as_bytes()
            .ct_eq(submitted.as_bytes())
            .into();
        if matches && last_used.is_none_or(|last| step > last) {
            found = Some(step);
        }
    }
    found
}

/// RFC 4648 base32 without padding, as authenticator apps take secrets.
pub fn base32(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    let mut out = String::with_capacity(bytes.len().div_ceil(5) * 8);
    let (mut buffer, mut bits) = (0u32, 0u32);
    for &byte in bytes {
        buffer = (buffer << 8) | u32::from(byte);
        bits += 8;
        while bits >= 5 {
            bits -= 5;
            out.push(char::from(ALPHABET[((buffer >> bits) & 31) as usize]));
        }
    }
    if bits > 0 {
        out.push(char::from(ALPHABET[((buffer << (5 - bits)) & 31) as usize]));
    }
    out
}

/// The URI an authenticator app reads (as text or as a QR code).
/// User names are letters, digits, '.', '-' and '_': nothing to escape.
pub fn otpauth_uri(issuer: &str, user: &str, secret: &[u8]) -> String {
    format!(
        "otpauth://totp/{issuer}:{user}?secret={}&issuer={issuer}&algorithm=SHA1&digits={DIGITS}&period={STEP}",
        base32(secret)
    )
}

/// The URI as a QR code in SVG, drawn here (nothing is fetched).
pub fn qr_svg(uri: &str) -> Option<String> {
    let code = qrcode::QrCode::new(uri.as_bytes()).ok()?;
    Some(
        code.render::<qrcode::render::svg::Color>()
            .min_dimensions(200, 200)
            .build(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 6238, Appendix B: the SHA-1 secret and the codes it gives.
    #[test]
    fn codes_are_rfc_6238s_test_vectors() {
        let secret = b"12345678901234567890";
        for (time, expected) in [
            (59, "94287082"),
            (1_111_111_109, "07081804"),
            (1_111_111_111, "14050471"),
            (1_234_567_890, "89005924"),
            (2_000_000_000, "69279037"),
            (20_000_000_000, "65353130"),
        ] {
            assert_eq!(code(secret, time, 8), expected, "at T = {time}");
        }
        // Six digits are the last six of the eight (RFC 4226, Appendix D).
        assert_eq!(code(secret, 59, 6), "287082");
        assert_eq!(hotp(secret, 0, 6), "755224");
        assert_eq!(hotp(secret, 9, 6), "520489");
    }

    #[test]
    fn a_code_is_accepted_within_the_drift_and_only_once() {
        let secret = b"12345678901234567890";
        let now = 1_111_111_111;
        let current = code(secret, now, DIGITS);
        let step = step_of(now);
        assert_eq!(matching_step(secret, &current, now, None), Some(step));
        assert_eq!(
            matching_step(secret, &format!(" {} ", &current), now, None),
            Some(step)
        );
        // A step behind or ahead passes; two do not.
        let behind = code(secret, now - STEP, DIGITS);
        assert_eq!(matching_step(secret, &behind, now, None), Some(step - 1));
        let ahead = code(secret, now + STEP, DIGITS);
        assert_eq!(matching_step(secret, &ahead, now, None), Some(step + 1));
        let far = code(secret, now + 2 * STEP, DIGITS);
        assert_eq!(matching_step(secret, &far, now, None), None);
        // Once used, that step and earlier ones are refused.
        assert_eq!(matching_step(secret, &current, now, Some(step)), None);
        assert_eq!(matching_step(secret, &behind, now, Some(step)), None);
        assert_eq!(
            matching_step(secret, &ahead, now, Some(step)),
            Some(step + 1)
        );
        assert_eq!(matching_step(secret, "", now, None), None);
        assert_eq!(matching_step(secret, "12345", now, None), None);
    }

    #[test]
    fn secrets_are_rfc_4648_base32() {
        for (bytes, expected) in [
            ("", ""),
            ("f", "MY"),
            ("fo", "MZXQ"),
            ("foo", "MZXW6"),
            ("foob", "MZXW6YQ"),
            ("fooba", "MZXW6YTB"),
            ("foobar", "MZXW6YTBOI"),
        ] {
            assert_eq!(base32(bytes.as_bytes()), expected);
        }
        let uri = otpauth_uri("Girok", "kim", b"12345678901234567890");
        assert_eq!(
            uri,
            "otpauth://totp/Girok:kim?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&issuer=Girok&algorithm=SHA1&digits=6&period=30"
        );
        let svg = qr_svg(&uri).expect("qr");
        assert!(svg.contains("<svg") && svg.contains("</svg>"));
    }
}
