//! Downloads (a strict allowlist of file names) and the embedded stylesheet.

use std::fmt::Write as _;
use std::path::Path;

use http::header;

use crate::web::{self, AppError, AppResult, Resp};
use crate::{App, Ctx};

/// The only names `/download` serves, with their content types.
const ALLOWED: [(&str, &str); 3] = [
    ("invoice-sample.pdf", "application/pdf"),
    ("catalog.csv", "text/csv; charset=utf-8"),
    ("terms.txt", "text/plain; charset=utf-8"),
];

const TERMS: &str = "\
Rampart Demo Shop - Terms of Sale
=================================

1. This shop is a demonstration. No goods are shipped and no payments are taken.
2. Prices are shown in US dollars and include sales tax where applicable.
3. Orders can be cancelled free of charge until they are shipped.
4. Returns are accepted within 30 days of delivery in original condition.
5. Only the last four digits of a payment card are stored with an order.
6. Questions? Write to support@example.com.
";

fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_owned()
    }
}

fn catalog_csv() -> Vec<u8> {
    let mut out = String::from("id,name,category,price_usd,description\n");
    for (i, (name, category, description, price, _)) in crate::db::SEED_PRODUCTS.iter().enumerate()
    {
        let _ = writeln!(
            out,
            "{},{},{},{},{}",
            i + 1,
            csv_field(name),
            csv_field(category),
            crate::db::money(*price),
            csv_field(description)
        );
    }
    out.into_bytes()
}

/// A one-page PDF with a correct cross-reference table.
fn invoice_pdf() -> Vec<u8> {
    let text = "BT /F1 18 Tf 72 760 Td (Rampart Demo Shop - Sample Invoice) Tj \
                /F1 11 Tf 0 -30 Td (Invoice no. 0001    Date: 2024-01-15) Tj \
                0 -20 Td (1 x Rust in Practice ........................ 39.99 USD) Tj \
                0 -16 Td (2 x Insulated Bottle ........................ 49.98 USD) Tj \
                0 -24 Td (Total ....................................... 89.97 USD) Tj \
                0 -30 Td (This is a sample document. No payment is due.) Tj ET";
    let objects = [
        "<< /Type /Catalog /Pages 2 0 R >>".to_owned(),
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>".to_owned(),
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>".to_owned(),
        format!("<< /Length {} >>\nstream\n{text}\nendstream", text.len()),
        "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>".to_owned(),
    ];
    let mut out = String::from("%PDF-1.4\n");
    let mut offsets = Vec::with_capacity(objects.len());
    for (i, obj) in objects.iter().enumerate() {
        offsets.push(out.len());
        let _ = write!(out, "{} 0 obj\n{obj}\nendobj\n", i + 1);
    }
    let xref = out.len();
    let _ = write!(out, "xref\n0 {}\n0000000000 65535 f \n", objects.len() + 1);
    for off in offsets {
        let _ = writeln!(out, "{off:010} 00000 n ");
    }
    let _ = write!(
        out,
        "trailer\n<< /Size {} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n",
        objects.len() + 1
    );
    out.into_bytes()
}

fn embedded(name: &str) -> Option<Vec<u8>> {
    match name {
        "invoice-sample.pdf" => Some(invoice_pdf()),
        "catalog.csv" => Some(catalog_csv()),
        "terms.txt" => Some(TERMS.as_bytes().to_vec()),
        _ => None,
    }
}

/// Creates the files folder and writes any missing allowlisted file.
pub(crate) async fn prepare_dir(dir: &Path) -> anyhow::Result<()> {
    tokio::fs::create_dir_all(dir).await?;
    for (name, _) in ALLOWED {
        let path = dir.join(name);
        if tokio::fs::try_exists(&path).await? {
            continue;
        }
        if let Some(bytes) = embedded(name) {
            tokio::fs::write(&path, bytes).await?;
        }
    }
    Ok(())
}

pub(crate) async fn download(app: &App, ctx: &Ctx) -> AppResult<Resp> {
    let params = ctx.query()?;
    let requested = params.str("file");
    // Exact match against the allowlist; the name used below is the constant, never the input.
    let Some((name, content_type)) = ALLOWED.iter().find(|(n, _)| *n == requested) else {
        return Err(AppError::NotFound);
    };
    let bytes = match &app.files_dir {
        Some(dir) => match tokio::fs::read(dir.join(name)).await {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Err(AppError::NotFound),
            Err(e) => {
                tracing::error!(error = %e, file = name, "could not read download");
                return Err(AppError::Internal);
            }
        },
        None => embedded(name).ok_or(AppError::NotFound)?,
    };
    let resp = web::bytes(content_type, bytes);
    Ok(web::with_header(
        resp,
        header::CONTENT_DISPOSITION,
        &format!("attachment; filename=\"{name}\""),
    ))
}

const STYLESHEET: &str = r#":root { --accent: #2f5d8a; --muted: #6b7280; --bg: #f7f7f5; }
* { box-sizing: border-box; }
body { margin: 0; font: 16px/1.5 system-ui, -apple-system, "Segoe UI", sans-serif; color: #1f2933; background: var(--bg); }
a { color: var(--accent); }
header.site { display: flex; flex-wrap: wrap; gap: 1rem; align-items: center; padding: .75rem 1.5rem; background: #fff; border-bottom: 1px solid #e5e7eb; }
header.site .brand { font-weight: 700; font-size: 1.2rem; text-decoration: none; }
header.site nav { display: flex; gap: 1rem; align-items: center; margin-left: auto; }
form.search { display: flex; gap: .25rem; }
form.inline { display: inline; }
main { max-width: 1100px; margin: 0 auto; padding: 1.5rem; }
footer.site { text-align: center; color: var(--muted); font-size: .9rem; padding: 2rem 1rem; }
.hero { background: #fff; padding: 2rem; border-radius: 8px; margin-bottom: 1.5rem; }
.grid { display: grid; grid-template-columns: repeat(auto-fill, minmax(220px, 1fr)); gap: 1rem; }
.card { background: #fff; border: 1px solid #e5e7eb; border-radius: 8px; padding: 1rem; }
.card h3 { margin: 0 0 .25rem; font-size: 1.05rem; }
.category, .muted, .count { color: var(--muted); }
.price { font-weight: 700; font-size: 1.1rem; }
.stars { color: #d97706; letter-spacing: 1px; }
.narrow { max-width: 480px; }
label { display: block; margin: .5rem 0; }
input, select, textarea { font: inherit; padding: .4rem .5rem; border: 1px solid #cbd5e1; border-radius: 4px; }
label input, label textarea, label select { display: block; width: 100%; margin-top: .2rem; }
button, .button { font: inherit; background: var(--accent); color: #fff; border: 0; border-radius: 4px; padding: .45rem .9rem; cursor: pointer; text-decoration: none; display: inline-block; }
button.link { background: none; color: var(--accent); padding: 0; text-decoration: underline; }
.errors { background: #fef2f2; border: 1px solid #fecaca; color: #991b1b; border-radius: 6px; padding: .5rem 1rem; }
.notice { background: #ecfdf5; border: 1px solid #a7f3d0; border-radius: 6px; padding: .5rem 1rem; }
table { width: 100%; border-collapse: collapse; background: #fff; }
th, td { text-align: left; padding: .5rem; border-bottom: 1px solid #e5e7eb; }
.review { background: #fff; border-radius: 6px; padding: .5rem 1rem; margin: .5rem 0; }
.filters { display: flex; flex-wrap: wrap; gap: .5rem; margin-bottom: 1rem; }
.pages { display: flex; gap: .5rem; margin-top: 1rem; }
fieldset { border: 1px solid #e5e7eb; border-radius: 6px; margin: 1rem 0; background: #fff; }
"#;

pub(crate) fn stylesheet() -> Resp {
    let resp = web::bytes("text/css; charset=utf-8", STYLESHEET);
    web::with_header(resp, header::CACHE_CONTROL, "public, max-age=3600")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pdf_xref_offsets_point_at_objects() {
        let pdf = String::from_utf8(invoice_pdf()).unwrap();
        let xref_at: usize = pdf
            .rsplit("startxref\n")
            .next()
            .unwrap()
            .lines()
            .next()
            .unwrap()
            .parse()
            .unwrap();
        assert!(pdf[xref_at..].starts_with("xref"));
        for (i, line) in pdf[xref_at..].lines().skip(3).take(5).enumerate() {
            let off: usize = line[..10].parse().unwrap();
            assert!(pdf[off..].starts_with(&format!("{} 0 obj", i + 1)));
        }
    }

    #[test]
    fn catalog_lists_all_products() {
        let csv = String::from_utf8(catalog_csv()).unwrap();
        assert_eq!(csv.lines().count(), crate::db::SEED_PRODUCTS.len() + 1);
    }
}
