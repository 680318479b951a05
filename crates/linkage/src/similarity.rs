//! Jaro-Winkler similarity for short ASCII strings (romanized given names)
//! without allocating: it runs for most candidate pairs, so it must be cheap.
//! Longer or non-ASCII text goes to `strsim`.

/// Jaro-Winkler similarity, 0 to 1: the common prefix (up to four
/// characters, scale 0.1) boosts a Jaro similarity above 0.7.
pub fn jaro_winkler(a: &str, b: &str) -> f64 {
    let (x, y) = (a.as_bytes(), b.as_bytes());
    if !a.is_ascii() || !b.is_ascii() || x.len() > 64 || y.len() > 64 {
        return strsim::jaro_winkler(a, b);
    }
    let jaro = jaro(x, y);
    if jaro <= 0.7 {
        return jaro;
    }
    let prefix = x.iter().zip(y).take(4).take_while(|(p, q)| p == q).count();
    jaro + 0.1 * prefix as f64 * (1.0 - jaro)
}

fn jaro(x: &[u8], y: &[u8]) -> f64 {
    if x.is_empty() && y.is_empty() {
        return 1.0;
    }
    if x.is_empty() || y.is_empty() {
        return 0.0;
    }
    let window = (x.len().max(y.len()) / 2).saturating_sub(1);
    let mut x_matched = [false; 64];
    let mut y_matched = [false; 64];
    let mut matches = 0usize;
    for (i, &c) in x.iter().enumerate() {
        let start = i.saturating_sub(window);
        let end = (i + window + 1).min(y.len());
        for j in start..end {
            if !y_matched[j] && y[j] == c {
                x_matched[i] = true;
                y_matched[j] = true;
                matches += 1;
                break;
            }
        }
    }
    if matches == 0 {
        return 0.0;
    }
    let mut transpositions = 0usize;
    let mut j = 0;
    for (i, &c) in x.iter().enumerate() {
        if x_matched[i] {
            while !y_matched[j] {
                j += 1;
            }
            if c != y[j] {
                transpositions += 1;
            }
            j += 1;
        }
    }
    let m = matches as f64;
    (m / x.len() as f64 + m / y.len() as f64 + (m - (transpositions / 2) as f64) / m) / 3.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn agrees_with_strsim() {
        let words = [
            "",
            "a",
            "eunju",
            "eunjoo",
            "unchu",
            "gyuri",
            "kyuri",
            "martha",
            "marhta",
            "dixon",
            "dicksonx",
            "jellyfish",
            "smellyfish",
            "dongkoo",
            "donggu",
            "ae-pok",
            "aepko",
        ];
        for a in words {
            for b in words {
                let (ours, theirs) = (jaro_winkler(a, b), strsim::jaro_winkler(a, b));
                assert!((ours - theirs).abs() < 1e-12, "{a} {b}: {ours} {theirs}");
            }
        }
        assert!(
            (jaro_winkler("김은주", "김은자") - strsim::jaro_winkler("김은주", "김은자")).abs()
                < 1e-12
        );
    }
}
