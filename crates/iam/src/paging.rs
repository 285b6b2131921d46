//! Marker / MaxItems / IsTruncated paging over name-ordered listings.

use base64::Engine;

/// A page of items with IsTruncated and the next Marker.
pub type Page<T> = (Vec<T>, Option<bool>, Option<String>);

const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::URL_SAFE_NO_PAD;

/// One page of `items` (keys in ascending order) after `marker`, with the marker of the next page.
pub fn page<T>(
    items: impl IntoIterator<Item = (String, T)>,
    marker: Option<&str>,
    max_items: Option<i32>,
) -> (Vec<T>, Option<String>) {
    let start = marker.and_then(|m| B64.decode(m).ok()).and_then(|b| String::from_utf8(b).ok());
    let max = max_items.unwrap_or(100).max(1) as usize;
    let mut out = Vec::new();
    for (key, item) in items {
        if start.as_deref().is_some_and(|s| key.as_str() < s) {
            continue;
        }
        if out.len() == max {
            return (out, Some(B64.encode(key)));
        }
        out.push(item);
    }
    (out, None)
}

#[cfg(test)]
mod tests {
    #[test]
    fn pages_resume_at_the_marker() {
        let items = || (0..5).map(|i| (format!("k{i}"), i));
        let (first, marker) = super::page(items(), None, Some(2));
        assert_eq!(first, [0, 1]);
        let (second, marker) = super::page(items(), marker.as_deref(), Some(2));
        assert_eq!(second, [2, 3]);
        let (third, marker) = super::page(items(), marker.as_deref(), Some(2));
        assert_eq!((third, marker), (vec![4], None));
    }
}
