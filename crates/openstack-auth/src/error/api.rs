//! What the server said: [`ApiError`], and the message extracted from any OpenStack error
//! body (JSON in its several dialects, or an HTML page).

use std::fmt;

use http::{Method, StatusCode};

/// What the server said when a request failed.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ApiError {
    /// The request's method.
    pub method: Method,
    /// The request's URL (without query secrets; OpenStack puts none there).
    pub url: String,
    /// The HTTP status.
    pub status: StatusCode,
    /// The server's message, parsed from its JSON or HTML error body.
    pub message: String,
    /// The `x-openstack-request-id` (or `x-compute-request-id`) header, if any.
    pub request_id: Option<String>,
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {} returned {}", self.method, self.url, self.status.as_u16())?;
        if !self.message.is_empty() {
            write!(f, ": {}", self.message)?;
        }
        if let Some(id) = &self.request_id {
            write!(f, " (request id {id})")?;
        }
        Ok(())
    }
}

/// Extracts the human message from an OpenStack error body.
///
/// Handles `{"message": ...}`, `{"error": {"message": ...}}`, `{"<kind>": {"message": ...}}`
/// (nova style), `{"errors": [{"detail"|"title": ...}]}`, and HTML pages (tags stripped).
pub(crate) fn error_message(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    let text = text.trim();
    if text.is_empty() {
        return String::new();
    }
    if let Ok(value) = serde_json::from_str::<serde_json::Value>(text) {
        if let Some(m) = json_message(&value) {
            return clean(&m);
        }
    }
    if text.starts_with('<') || text.contains("</") {
        return clean(&strip_html(text));
    }
    clean(text)
}

fn json_message(value: &serde_json::Value) -> Option<String> {
    let obj = value.as_object()?;
    for key in ["message", "detail", "title", "faultstring"] {
        if let Some(s) = obj.get(key).and_then(|v| v.as_str()) {
            return Some(s.to_string());
        }
    }
    if let Some(errors) = obj.get("errors").and_then(|v| v.as_array()) {
        let msgs: Vec<String> = errors.iter().filter_map(json_message).collect();
        if !msgs.is_empty() {
            return Some(msgs.join("; "));
        }
    }
    obj.values().find_map(|v| v.is_object().then(|| json_message(v)).flatten())
}

fn strip_html(text: &str) -> String {
    // Prefer the body: titles repeat the status line.
    let lower = text.to_ascii_lowercase();
    let body = match (lower.find("<body"), lower.rfind("</body>")) {
        (Some(start), Some(end)) if start < end => &text[start..end],
        _ => text,
    };
    let mut out = String::with_capacity(body.len());
    let mut in_tag = false;
    for c in body.chars() {
        match c {
            '<' => {
                in_tag = true;
                out.push(' ');
            }
            '>' => in_tag = false,
            c if !in_tag => out.push(c),
            _ => {}
        }
    }
    out
}

fn clean(text: &str) -> String {
    let text = text.replace("<br />", " ").replace("<br/>", " ").replace("<br>", " ");
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn glance_json_error_message_loses_its_html_breaks() {
        let body = br#"{"message": "Image with identifier x already exists!<br /><br />", "code": "409 Conflict", "title": "Conflict"}"#;
        assert_eq!(error_message(body), "Image with identifier x already exists!");
    }

    #[test]
    fn keystone_nested_error_message() {
        let body = br#"{"error":{"code":401,"message":"The request you have made requires authentication.","title":"Unauthorized"}}"#;
        assert_eq!(error_message(body), "The request you have made requires authentication.");
    }

    #[test]
    fn html_error_page_is_reduced_to_its_text() {
        let body = b"<html>\n <head>\n  <title>404 Not Found</title>\n </head>\n <body>\n  <h1>404 Not Found</h1>\n  No image found with ID abc<br /><br />\n\n\n </body>\n</html>";
        assert_eq!(error_message(body), "404 Not Found No image found with ID abc");
    }
}
