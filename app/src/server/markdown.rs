//! Markdown written by users (a review's description), rendered to HTML that is
//! safe to put in a page: raw HTML is shown as text, links keep only web, mail
//! and relative addresses, and images become links (no request on viewing).

use pulldown_cmark::{html, CowStr, Event, LinkType, Options, Parser, Tag, TagEnd};

pub fn render(source: &str) -> String {
    let events = Parser::new_ext(
        source,
        Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH,
    )
    .map(|event| match event {
        Event::Html(raw) | Event::InlineHtml(raw) => Event::Text(raw),
        Event::Start(Tag::Link {
            link_type,
            dest_url,
            title,
            id,
        }) => Event::Start(Tag::Link {
            link_type,
            dest_url: safe(dest_url),
            title,
            id,
        }),
        Event::Start(Tag::Image {
            dest_url,
            title,
            id,
            ..
        }) => Event::Start(Tag::Link {
            link_type: LinkType::Inline,
            dest_url: safe(dest_url),
            title,
            id,
        }),
        Event::End(TagEnd::Image) => Event::End(TagEnd::Link),
        other => other,
    });
    let mut out = String::new();
    html::push_html(&mut out, events);
    out
}

fn safe(url: CowStr<'_>) -> CowStr<'_> {
    let lower = url.trim().to_ascii_lowercase();
    let scheme = lower
        .split_once(':')
        .map(|(s, _)| s)
        .filter(|s| !s.contains(['/', '?', '#']));
    match scheme {
        None | Some("http" | "https" | "mailto") => url,
        Some(_) => CowStr::Borrowed("#"),
    }
}

#[cfg(test)]
mod tests {
    use super::render;

    #[test]
    fn markdown_without_anything_that_runs() {
        assert_eq!(
            render("**bold** `x`"),
            "<p><strong>bold</strong> <code>x</code></p>\n"
        );
        let html = render("<script>alert(1)</script>\n\n<img src=x onerror=alert(1)>");
        assert!(
            !html.contains("<script") && !html.contains("<img"),
            "{html}"
        );
        assert!(html.contains("&lt;script&gt;"), "{html}");
        let html =
            render("[a](javascript:alert(1)) [b](JavaScript:x) [c](https://e.org) [d](docs/x.md)");
        assert!(!html.to_lowercase().contains("javascript"), "{html}");
        assert!(html.contains("href=\"https://e.org\"") && html.contains("href=\"docs/x.md\""));
        assert_eq!(
            render("![pic](https://e.org/p.png)"),
            "<p><a href=\"https://e.org/p.png\">pic</a></p>\n"
        );
    }
}
