//! HTML escaping for the pages arrears writes (the `diff` report, the `doc`
//! site): text from rule files and accounts is safe in element content and in
//! quoted attributes. It must not know what a page holds.

/// `text` with `& < > " '` escaped, and control characters other than tab and
/// line feed written as character references, so none reaches the page raw.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c if c.is_control() && c != '\n' && c != '\t' => {
                out.push_str(&format!("&#x{:x};", c as u32))
            }
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn markup_quotes_and_controls_are_escaped() {
        assert_eq!(
            super::escape("<a href='x'>\"&\u{1b}\n"),
            "&lt;a href=&#39;x&#39;&gt;&quot;&amp;&#x1b;\n"
        );
    }
}
