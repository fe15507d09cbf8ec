//! Shop operations and their validation, shared by the HTML pages, the JSON API, GraphQL and SOAP.

use rusqlite::Connection;

use crate::db::{self, User, MAX_QTY};
use crate::web::{AppError, AppResult};

fn check_len(errors: &mut Vec<String>, field: &str, value: &str, min: usize, max: usize) {
    let n = value.chars().count();
    if n < min {
        if min == 1 {
            errors.push(format!("{field} is required"));
        } else {
            errors.push(format!("{field} must be at least {min} characters"));
        }
    } else if n > max {
        errors.push(format!("{field} must be at most {max} characters"));
    }
}

fn check_email(errors: &mut Vec<String>, email: &str) {
    let valid = email.len() <= 254
        && !email
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || c == '<' || c == '>')
        && email.split_once('@').is_some_and(|(local, domain)| {
            !local.is_empty()
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
                && !domain.contains('@')
        });
    if !valid {
        errors.push("email must be a valid address".into());
    }
}

fn check_text(errors: &mut Vec<String>, field: &str, value: &str) {
    if value
        .chars()
        .any(|c| c.is_control() && c != '\n' && c != '\r' && c != '\t')
    {
        errors.push(format!("{field} contains control characters"));
    }
}

#[derive(Debug, Default)]
pub(crate) struct Registration {
    pub username: String,
    pub email: String,
    pub password: String,
    pub name: String,
}

/// Validates and creates an account.
pub(crate) fn register(conn: &Connection, reg: &Registration) -> AppResult<User> {
    let mut errors = Vec::new();
    let username = reg.username.trim();
    check_len(&mut errors, "username", username, 3, 32);
    if !username
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
    {
        errors.push("username may contain only letters, digits, '.', '_' and '-'".into());
    }
    let email = reg.email.trim();
    check_email(&mut errors, email);
    check_len(&mut errors, "password", &reg.password, 8, 128);
    let name = reg.name.trim();
    check_len(&mut errors, "name", name, 1, 100);
    check_text(&mut errors, "name", name);
    if errors.is_empty() && db::username_taken(conn, username)? {
        errors.push("that username is already taken".into());
    }
    if !errors.is_empty() {
        return Err(AppError::Invalid(errors));
    }
    let hash = crate::auth::hash_password(&reg.password);
    let id = db::insert_user(conn, username, email, name, &hash)?;
    db::user(conn, id)?.ok_or(AppError::Internal)
}

/// Validates and saves a profile: name, email and bio.
pub(crate) fn update_profile(
    conn: &Connection,
    user_id: i64,
    name: &str,
    email: &str,
    bio: &str,
) -> AppResult<User> {
    let mut errors = Vec::new();
    let (name, email, bio) = (name.trim(), email.trim(), bio.trim());
    check_len(&mut errors, "name", name, 1, 100);
    check_text(&mut errors, "name", name);
    check_email(&mut errors, email);
    check_len(&mut errors, "bio", bio, 0, 1000);
    check_text(&mut errors, "bio", bio);
    if !errors.is_empty() {
        return Err(AppError::Invalid(errors));
    }
    db::update_user(conn, user_id, name, email, bio)?;
    db::user(conn, user_id)?.ok_or(AppError::NotFound)
}

pub(crate) fn add_review(
    conn: &Connection,
    product_id: i64,
    user_id: i64,
    rating: Option<i64>,
    text: &str,
) -> AppResult<i64> {
    if db::product(conn, product_id)?.is_none() {
        return Err(AppError::NotFound);
    }
    let mut errors = Vec::new();
    let rating = match rating {
        Some(r @ 1..=5) => r,
        _ => {
            errors.push("rating must be between 1 and 5".into());
            0
        }
    };
    let text = text.trim();
    check_len(&mut errors, "review", text, 1, 2000);
    check_text(&mut errors, "review", text);
    if !errors.is_empty() {
        return Err(AppError::Invalid(errors));
    }
    Ok(db::add_review(conn, product_id, user_id, rating, text)?)
}

pub(crate) fn check_qty(qty: i64) -> AppResult<i64> {
    if (1..=MAX_QTY).contains(&qty) {
        Ok(qty)
    } else {
        Err(AppError::invalid(format!(
            "quantity must be between 1 and {MAX_QTY}"
        )))
    }
}

pub(crate) fn add_to_cart(
    conn: &Connection,
    user_id: i64,
    product_id: i64,
    qty: i64,
) -> AppResult<()> {
    let qty = check_qty(qty)?;
    if db::product(conn, product_id)?.is_none() {
        return Err(AppError::NotFound);
    }
    db::add_to_cart(conn, user_id, product_id, qty)?;
    Ok(())
}

#[derive(Debug, Default)]
pub(crate) struct Payment {
    pub name: String,
    pub address: String,
    pub card_number: String,
    pub expiry: String,
    pub cvv: String,
}

fn luhn_ok(digits: &[u32]) -> bool {
    let sum: u32 = digits
        .iter()
        .rev()
        .enumerate()
        .map(|(i, &d)| {
            if i % 2 == 1 {
                let d2 = d * 2;
                if d2 > 9 {
                    d2 - 9
                } else {
                    d2
                }
            } else {
                d
            }
        })
        .sum();
    sum.is_multiple_of(10)
}

/// Parses `MM/YY` or `MM/YYYY` into (year, month).
fn parse_expiry(s: &str) -> Option<(i64, i64)> {
    let (m, y) = s.trim().split_once('/')?;
    let (m, y) = (m.trim(), y.trim());
    if m.is_empty() || m.len() > 2 || !m.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    if !(y.len() == 2 || y.len() == 4) || !y.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let month: i64 = m.parse().ok()?;
    let mut year: i64 = y.parse().ok()?;
    if y.len() == 2 {
        year += 2000;
    }
    (1..=12).contains(&month).then_some((year, month))
}

/// Validates payment details and returns the last four digits of the card.
fn check_payment(conn: &Connection, p: &Payment) -> AppResult<String> {
    let mut errors = Vec::new();
    check_len(&mut errors, "name", p.name.trim(), 1, 100);
    check_text(&mut errors, "name", &p.name);
    check_len(&mut errors, "address", p.address.trim(), 1, 300);
    check_text(&mut errors, "address", &p.address);
    let cleaned: String = p
        .card_number
        .chars()
        .filter(|c| *c != ' ' && *c != '-')
        .collect();
    let digits: Option<Vec<u32>> = cleaned.chars().map(|c| c.to_digit(10)).collect();
    let mut last4 = String::new();
    match digits {
        Some(d) if (12..=19).contains(&d.len()) && luhn_ok(&d) => {
            last4 = cleaned[cleaned.len() - 4..].to_owned();
        }
        _ => errors.push("card number is not valid".into()),
    }
    match parse_expiry(&p.expiry) {
        Some(expiry) => {
            if expiry < db::current_year_month(conn)? {
                errors.push("card has expired".into());
            }
        }
        None => errors.push("expiry must look like MM/YY".into()),
    }
    let cvv = p.cvv.trim();
    if !(cvv.len() == 3 || cvv.len() == 4) || !cvv.bytes().all(|b| b.is_ascii_digit()) {
        errors.push("security code must be 3 or 4 digits".into());
    }
    if errors.is_empty() {
        Ok(last4)
    } else {
        Err(AppError::Invalid(errors))
    }
}

/// Turns the user's cart into an order. Only the card's last four digits are stored.
pub(crate) fn checkout(
    conn: &mut Connection,
    user_id: i64,
    payment: &Payment,
) -> AppResult<(i64, i64)> {
    let cart = db::cart(conn, user_id)?;
    if cart.is_empty() {
        return Err(AppError::invalid("your cart is empty"));
    }
    let last4 = check_payment(conn, payment)?;
    let lines: Vec<(i64, i64, i64)> = cart
        .iter()
        .map(|l| (l.product_id, l.qty, l.unit_price_cents))
        .collect();
    let order = db::NewOrder {
        user_id,
        name: payment.name.trim(),
        address: payment.address.trim(),
        card_last4: Some(&last4),
        note: "",
        source: "web",
        lines: &lines,
    };
    Ok(db::insert_order(conn, &order, true)?)
}

/// Creates an order from an imported list of (product id, quantity); used by SOAP.
pub(crate) fn import_order(
    conn: &mut Connection,
    user_id: i64,
    customer: &str,
    items: &[(i64, i64)],
    note: &str,
) -> AppResult<(i64, i64)> {
    let mut errors = Vec::new();
    check_len(&mut errors, "customer", customer, 1, 100);
    check_text(&mut errors, "customer", customer);
    check_len(&mut errors, "note", note, 0, 1000);
    check_text(&mut errors, "note", note);
    if items.is_empty() {
        errors.push("an order needs at least one item".into());
    }
    let mut lines = Vec::with_capacity(items.len());
    for &(sku, qty) in items {
        if !(1..=MAX_QTY).contains(&qty) {
            errors.push(format!(
                "item {sku}: quantity must be between 1 and {MAX_QTY}"
            ));
            continue;
        }
        match db::product(conn, sku)? {
            Some(p) => lines.push((p.id, qty, p.price_cents)),
            None => errors.push(format!("unknown sku {sku}")),
        }
    }
    if !errors.is_empty() {
        return Err(AppError::Invalid(errors));
    }
    let order = db::NewOrder {
        user_id,
        name: customer,
        address: "",
        card_last4: None,
        note,
        source: "soap",
        lines: &lines,
    };
    Ok(db::insert_order(conn, &order, false)?)
}

/// An order the user may see: their own, or any for an administrator. Others read as missing.
pub(crate) fn visible_order(conn: &Connection, user: &User, id: i64) -> AppResult<db::Order> {
    match db::order(conn, id)? {
        Some(order) if order.user_id == user.id || user.is_admin() => Ok(order),
        _ => Err(AppError::NotFound),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn luhn() {
        let d = |s: &str| s.chars().filter_map(|c| c.to_digit(10)).collect::<Vec<_>>();
        assert!(luhn_ok(&d("4111111111111111")));
        assert!(luhn_ok(&d("5555555555554444")));
        assert!(!luhn_ok(&d("4111111111111112")));
    }

    #[test]
    fn expiry() {
        assert_eq!(parse_expiry("12/34"), Some((2034, 12)));
        assert_eq!(parse_expiry("1/2030"), Some((2030, 1)));
        assert_eq!(parse_expiry("13/30"), None);
        assert_eq!(parse_expiry("ab/cd"), None);
        assert_eq!(parse_expiry("1230"), None);
    }

    #[test]
    fn checkout_stores_last_four_only() {
        let mut conn = Connection::open_in_memory().unwrap();
        db::seed(&conn).unwrap();
        let bad = Payment {
            name: "A".into(),
            address: "B".into(),
            card_number: "1234".into(),
            expiry: "01/20".into(),
            cvv: "1".into(),
        };
        db::add_to_cart(&conn, 1, 1, 2).unwrap();
        let Err(AppError::Invalid(errors)) = checkout(&mut conn, 1, &bad) else {
            panic!("expected validation errors")
        };
        assert_eq!(errors.len(), 3, "{errors:?}");
        let good = Payment {
            card_number: "4111 1111 1111 1111".into(),
            expiry: "12/99".into(),
            cvv: "123".into(),
            ..bad
        };
        let (id, total) = checkout(&mut conn, 1, &good).unwrap();
        assert_eq!(total, 2 * 3999);
        let order = db::order(&conn, id).unwrap().unwrap();
        assert_eq!(order.card_last4.as_deref(), Some("1111"));
        assert!(db::cart(&conn, 1).unwrap().is_empty());
        let stored: i64 = conn
            .query_row(
                "SELECT COUNT(*) FROM orders WHERE card_last4 LIKE '%4111%'",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(stored, 0);
    }
}
