//! The comments of a source text. The AST keeps no comments (the grammar
//! skips them as trivia), so the formatter finds them here, by position,
//! and attaches each to the construct it stands before or trails.

/// One `#` comment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Comment {
    pub start: u32,
    /// Where its text ends (trailing whitespace excluded).
    pub end: u32,
    /// The text from `#`, trailing whitespace removed.
    pub text: String,
    /// Only whitespace precedes it on its line.
    pub own_line: bool,
    /// An empty line follows it before the next token or comment.
    pub blank_after: bool,
    /// An empty line precedes it (after the previous token or comment).
    pub blank_before: bool,
}

/// Every comment of `src`, in order (strings are skipped, so a `#` inside
/// one is not a comment).
pub(super) fn scan(src: &str) -> Vec<Comment> {
    let b = src.as_bytes();
    let mut out: Vec<Comment> = Vec::new();
    let mut i = 0;
    // Newlines since the last token or comment (two make an empty line).
    let mut newlines = 0usize;
    let mut line_has_token = false;
    let mut seen_anything = false;
    // The last comment, while no token has followed it.
    let mut pending: Option<usize> = None;
    while i < b.len() {
        match b[i] {
            b'\n' => {
                newlines += 1;
                line_has_token = false;
                i += 1;
            }
            b' ' | b'\t' | b'\r' => i += 1,
            c => {
                if let Some(p) = pending.take() {
                    out[p].blank_after = newlines >= 2;
                }
                if c == b'#' {
                    let start = i;
                    while i < b.len() && b[i] != b'\n' {
                        i += 1;
                    }
                    let text = src[start..i].trim_end().to_string();
                    out.push(Comment {
                        start: start as u32,
                        end: (start + text.len()) as u32,
                        text,
                        own_line: !line_has_token,
                        blank_after: false,
                        blank_before: seen_anything && newlines >= 2,
                    });
                    pending = Some(out.len() - 1);
                } else {
                    line_has_token = true;
                    if c == b'"' {
                        i += 1;
                        while i < b.len() && b[i] != b'"' && b[i] != b'\n' {
                            i += if b[i] == b'\\' { 2 } else { 1 };
                        }
                    }
                    i += 1;
                }
                newlines = 0;
                seen_anything = true;
            }
        }
    }
    out
}

/// Hands out comments in source order.
#[derive(Debug)]
pub(super) struct Cursor<'a> {
    src: &'a str,
    list: Vec<Comment>,
    next: usize,
}

impl<'a> Cursor<'a> {
    pub fn new(src: &'a str) -> Cursor<'a> {
        Cursor {
            src,
            list: scan(src),
            next: 0,
        }
    }

    /// Every comment not yet taken that starts before `pos`.
    pub fn before(&mut self, pos: u32) -> Vec<Comment> {
        let mut out = Vec::new();
        while let Some(c) = self.list.get(self.next) {
            if c.start >= pos {
                break;
            }
            out.push(c.clone());
            self.next += 1;
        }
        out
    }

    /// The next comment, when only spaces separate it from `end`.
    pub fn trailing(&mut self, end: u32) -> Option<Comment> {
        let c = self.list.get(self.next)?;
        let gap = self.src.get(end as usize..c.start as usize)?;
        if c.start < end || !gap.bytes().all(|b| matches!(b, b' ' | b'\t' | b'\r')) {
            return None;
        }
        self.next += 1;
        let mut c = c.clone();
        c.own_line = false;
        Some(c)
    }

    /// `end` moved back over whitespace and comments: pest spans of
    /// rules that end in a repetition take the trivia after them.
    pub fn trim_end(&self, start: u32, end: u32) -> u32 {
        let b = self.src.as_bytes();
        let mut e = end as usize;
        loop {
            while e > start as usize && matches!(b.get(e - 1), Some(b' ' | b'\t' | b'\r' | b'\n')) {
                e -= 1;
            }
            match self
                .list
                .iter()
                .find(|c| c.end as usize == e && c.start >= start)
            {
                Some(c) if e > start as usize => e = c.start as usize,
                _ => return e as u32,
            }
        }
    }

    /// Every comment not yet taken.
    pub fn rest(&mut self) -> Vec<Comment> {
        let out = self.list[self.next..].to_vec();
        self.next = self.list.len();
        out
    }
}
