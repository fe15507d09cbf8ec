//! Schema, seed data and the queries the handlers share. Every statement is parameterized.

use rusqlite::{params, Connection, OptionalExtension, Row};

use crate::auth;

/// The shop's schema. `IF NOT EXISTS` everywhere so that opening an existing database is harmless.
const SCHEMA: &str = r"
PRAGMA foreign_keys = ON;
CREATE TABLE IF NOT EXISTS users (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    username      TEXT NOT NULL UNIQUE,
    email         TEXT NOT NULL,
    name          TEXT NOT NULL,
    bio           TEXT NOT NULL DEFAULT '',
    password_hash TEXT NOT NULL,
    role          TEXT NOT NULL DEFAULT 'customer',
    created_at    INTEGER NOT NULL DEFAULT (unixepoch())
);
CREATE TABLE IF NOT EXISTS products (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    name        TEXT NOT NULL,
    category    TEXT NOT NULL,
    description TEXT NOT NULL,
    price_cents INTEGER NOT NULL CHECK (price_cents >= 0),
    featured    INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS products_category ON products(category);
CREATE TABLE IF NOT EXISTS reviews (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    product_id INTEGER NOT NULL REFERENCES products(id),
    user_id    INTEGER NOT NULL REFERENCES users(id),
    rating     INTEGER NOT NULL CHECK (rating BETWEEN 1 AND 5),
    text       TEXT NOT NULL,
    created_at INTEGER NOT NULL DEFAULT (unixepoch())
);
CREATE INDEX IF NOT EXISTS reviews_product ON reviews(product_id);
CREATE TABLE IF NOT EXISTS sessions (
    token      TEXT PRIMARY KEY,
    user_id    INTEGER NOT NULL REFERENCES users(id),
    created_at INTEGER NOT NULL DEFAULT (unixepoch()),
    expires_at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS cart_items (
    user_id    INTEGER NOT NULL REFERENCES users(id),
    product_id INTEGER NOT NULL REFERENCES products(id),
    qty        INTEGER NOT NULL CHECK (qty > 0),
    PRIMARY KEY (user_id, product_id)
);
CREATE TABLE IF NOT EXISTS orders (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id     INTEGER NOT NULL REFERENCES users(id),
    name        TEXT NOT NULL,
    address     TEXT NOT NULL,
    card_last4  TEXT,
    total_cents INTEGER NOT NULL,
    status      TEXT NOT NULL DEFAULT 'placed',
    note        TEXT NOT NULL DEFAULT '',
    source      TEXT NOT NULL DEFAULT 'web',
    created_at  INTEGER NOT NULL DEFAULT (unixepoch())
);
CREATE INDEX IF NOT EXISTS orders_user ON orders(user_id);
CREATE TABLE IF NOT EXISTS order_items (
    order_id         INTEGER NOT NULL REFERENCES orders(id),
    product_id       INTEGER NOT NULL REFERENCES products(id),
    qty              INTEGER NOT NULL,
    unit_price_cents INTEGER NOT NULL
);
";

/// (name, category, description, price in cents, featured)
pub(crate) const SEED_PRODUCTS: &[(&str, &str, &str, i64, bool)] = &[
    (
        "Rust in Practice",
        "Books",
        "A hands-on guide to systems programming in Rust, from ownership to async services.",
        3999,
        true,
    ),
    (
        "The Pragmatic Gardener",
        "Books",
        "Seasonal advice for small gardens, balconies and window boxes.",
        2450,
        false,
    ),
    (
        "Night Sky Atlas",
        "Books",
        "Star charts and observing notes for every month of the year.",
        2999,
        false,
    ),
    (
        "Cooking for One",
        "Books",
        "Eighty quick recipes scaled for a single plate, with shopping lists.",
        1899,
        false,
    ),
    (
        "Wireless Headphones",
        "Electronics",
        "Over-ear headphones with active noise cancelling and 30 hours of battery.",
        12900,
        true,
    ),
    (
        "Mechanical Keyboard",
        "Electronics",
        "Tenkeyless keyboard with hot-swappable switches and a detachable USB-C cable.",
        8900,
        true,
    ),
    (
        "USB-C Hub",
        "Electronics",
        "Seven ports: HDMI, two USB-A, SD and microSD readers, Ethernet and pass-through charging.",
        4599,
        false,
    ),
    (
        "E-Reader",
        "Electronics",
        "Glare-free 6 inch screen, warm light and weeks of battery life.",
        10999,
        false,
    ),
    (
        "Portable Speaker",
        "Electronics",
        "Water-resistant speaker with a fabric cover and a twelve hour battery.",
        5999,
        false,
    ),
    (
        "Chef's Knife",
        "Home & Kitchen",
        "20 cm stainless steel knife with a full tang and a walnut handle.",
        6900,
        true,
    ),
    (
        "Cast Iron Skillet",
        "Home & Kitchen",
        "Pre-seasoned 26 cm skillet that goes from stove top to oven.",
        3499,
        false,
    ),
    (
        "Pour-Over Coffee Set",
        "Home & Kitchen",
        "Ceramic dripper, glass carafe and a hundred paper filters.",
        3999,
        false,
    ),
    (
        "Linen Tea Towels",
        "Home & Kitchen",
        "A set of three stonewashed linen towels in muted colours.",
        2199,
        false,
    ),
    (
        "Two-Person Tent",
        "Outdoors",
        "Lightweight three-season tent that packs down to the size of a water bottle.",
        18900,
        true,
    ),
    (
        "Trail Backpack 30L",
        "Outdoors",
        "Ventilated back panel, rain cover and a hydration sleeve.",
        7900,
        false,
    ),
    (
        "Insulated Bottle",
        "Outdoors",
        "Keeps drinks cold for 24 hours or hot for 12; 750 ml.",
        2499,
        false,
    ),
    (
        "Headlamp",
        "Outdoors",
        "Rechargeable 400 lumen headlamp with a red night mode.",
        2999,
        false,
    ),
    (
        "Wooden Train Set",
        "Toys",
        "Fifty pieces of beech track, bridges and three magnetic carriages.",
        4999,
        false,
    ),
    (
        "Puzzle: World Map",
        "Toys",
        "A 1000-piece jigsaw of an illustrated world map.",
        1999,
        true,
    ),
    (
        "Building Blocks Starter",
        "Toys",
        "Two hundred colourful blocks compatible with the major brands.",
        2999,
        false,
    ),
    (
        "Merino Beanie",
        "Clothing",
        "Soft, warm and itch-free merino wool beanie.",
        2900,
        false,
    ),
    (
        "Rain Jacket",
        "Clothing",
        "Packable waterproof jacket with taped seams and a stowable hood.",
        9900,
        true,
    ),
    (
        "Cotton T-Shirt",
        "Clothing",
        "Heavyweight organic cotton tee with a relaxed fit.",
        1999,
        false,
    ),
    (
        "Wool Socks (3 pairs)",
        "Clothing",
        "Cushioned hiking socks that stay dry on long days.",
        2400,
        false,
    ),
];

/// (username, password, email, name, bio, role)
const SEED_USERS: &[(&str, &str, &str, &str, &str, &str)] = &[
    (
        "alice",
        "alice-password",
        "alice@example.com",
        "Alice Liddell",
        "Curious reader and tea enthusiast.",
        "customer",
    ),
    (
        "bob",
        "bob-password",
        "bob@example.com",
        "Bob Baker",
        "Weekend hiker.",
        "customer",
    ),
    (
        "admin",
        "admin-password",
        "admin@example.com",
        "Shop Administrator",
        "",
        "admin",
    ),
];

/// (product id, username, rating, text)
const SEED_REVIEWS: &[(i64, &str, i64, &str)] = &[
    (
        1,
        "alice",
        5,
        "Clear explanations and great exercises. My go-to reference.",
    ),
    (
        1,
        "bob",
        4,
        "Very good, although the async chapter moves quickly.",
    ),
    (
        5,
        "alice",
        4,
        "Comfortable for hours and the noise cancelling works well on trains.",
    ),
    (
        6,
        "bob",
        5,
        "Lovely to type on. The switches were easy to swap.",
    ),
    (
        10,
        "alice",
        5,
        "Holds its edge and feels balanced in the hand.",
    ),
    (
        14,
        "bob",
        3,
        "Light and quick to pitch, but a bit cramped for two adults.",
    ),
    (
        19,
        "alice",
        4,
        "Beautiful illustrations; took our family a whole weekend.",
    ),
];

/// Creates the schema and, when the database holds no products yet, the seed data.
pub(crate) fn seed(conn: &Connection) -> rusqlite::Result<()> {
    conn.execute_batch(SCHEMA)?;
    let products: i64 = conn.query_row("SELECT COUNT(*) FROM products", [], |r| r.get(0))?;
    if products > 0 {
        return Ok(());
    }
    let tx = conn.unchecked_transaction()?;
    for (name, category, description, price, featured) in SEED_PRODUCTS {
        tx.execute(
            "INSERT INTO products (name, category, description, price_cents, featured) VALUES (?1, ?2, ?3, ?4, ?5)",
            params![name, category, description, price, featured],
        )?;
    }
    for (username, password, email, name, bio, role) in SEED_USERS {
        tx.execute(
            "INSERT OR IGNORE INTO users (username, email, name, bio, password_hash, role) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![username, email, name, bio, auth::hash_password(password), role],
        )?;
    }
    for (product, username, rating, text) in SEED_REVIEWS {
        tx.execute(
            "INSERT INTO reviews (product_id, user_id, rating, text) SELECT ?1, id, ?2, ?3 FROM users WHERE username = ?4",
            params![product, rating, text, username],
        )?;
    }
    tx.commit()
}

#[derive(Debug, Clone)]
pub(crate) struct Product {
    pub id: i64,
    pub name: String,
    pub category: String,
    pub description: String,
    pub price_cents: i64,
    pub featured: bool,
    pub rating: Option<f64>,
    pub review_count: i64,
}

const PRODUCT_COLUMNS: &str =
    "p.id, p.name, p.category, p.description, p.price_cents, p.featured, \
     (SELECT AVG(rating) FROM reviews r WHERE r.product_id = p.id), \
     (SELECT COUNT(*) FROM reviews r WHERE r.product_id = p.id)";

fn product_row(r: &Row<'_>) -> rusqlite::Result<Product> {
    Ok(Product {
        id: r.get(0)?,
        name: r.get(1)?,
        category: r.get(2)?,
        description: r.get(3)?,
        price_cents: r.get(4)?,
        featured: r.get(5)?,
        rating: r.get(6)?,
        review_count: r.get(7)?,
    })
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Sort {
    Relevance,
    PriceAsc,
    PriceDesc,
    Name,
    Rating,
}

impl Sort {
    pub(crate) const ALL: [(Sort, &'static str, &'static str); 5] = [
        (Sort::Relevance, "relevance", "Relevance"),
        (Sort::PriceAsc, "price_asc", "Price: low to high"),
        (Sort::PriceDesc, "price_desc", "Price: high to low"),
        (Sort::Name, "name", "Name"),
        (Sort::Rating, "rating", "Customer rating"),
    ];

    /// Unknown values fall back to relevance, as most shops do.
    pub(crate) fn parse(s: &str) -> Sort {
        Self::ALL
            .iter()
            .find(|(_, key, _)| *key == s)
            .map_or(Sort::Relevance, |(sort, _, _)| *sort)
    }

    pub(crate) fn key(self) -> &'static str {
        Self::ALL
            .iter()
            .find(|(sort, _, _)| *sort == self)
            .map_or("relevance", |(_, key, _)| key)
    }

    /// A fixed ORDER BY clause: never built from user input.
    fn order_by(self) -> &'static str {
        match self {
            Sort::Relevance => {
                r"CASE WHEN p.name LIKE ?2 ESCAPE '\' THEN 0 ELSE 1 END, p.featured DESC, p.id"
            }
            Sort::PriceAsc => "p.price_cents ASC, p.id",
            Sort::PriceDesc => "p.price_cents DESC, p.id",
            Sort::Name => "p.name COLLATE NOCASE, p.id",
            Sort::Rating => "7 DESC NULLS LAST, p.id",
        }
    }
}

/// Escapes LIKE wildcards so that the search text matches literally.
fn like_pattern(q: &str) -> String {
    let mut out = String::with_capacity(q.len() + 2);
    out.push('%');
    for c in q.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('%');
    out
}

/// Searches products by text and category. Returns one page and the total number of matches.
pub(crate) fn search_products(
    conn: &Connection,
    q: &str,
    category: &str,
    sort: Sort,
    limit: i64,
    offset: i64,
) -> rusqlite::Result<(Vec<Product>, i64)> {
    let q = q.trim();
    let filter = r"(?1 = '' OR p.name LIKE ?2 ESCAPE '\' OR p.description LIKE ?2 ESCAPE '\' OR p.category LIKE ?2 ESCAPE '\')
         AND (?3 = '' OR p.category = ?3)";
    let pattern = like_pattern(q);
    let total: i64 = conn.query_row(
        &format!("SELECT COUNT(*) FROM products p WHERE {filter}"),
        params![q, pattern, category],
        |r| r.get(0),
    )?;
    let sql = format!(
        "SELECT {PRODUCT_COLUMNS} FROM products p WHERE {filter} ORDER BY {} LIMIT ?4 OFFSET ?5",
        sort.order_by()
    );
    let mut stmt = conn.prepare(&sql)?;
    let rows = stmt.query_map(params![q, pattern, category, limit, offset], product_row)?;
    Ok((rows.collect::<rusqlite::Result<Vec<_>>>()?, total))
}

pub(crate) fn featured_products(conn: &Connection) -> rusqlite::Result<Vec<Product>> {
    let mut stmt = conn.prepare(&format!(
        "SELECT {PRODUCT_COLUMNS} FROM products p WHERE p.featured = 1 ORDER BY p.id"
    ))?;
    let rows = stmt.query_map([], product_row)?;
    rows.collect()
}

pub(crate) fn product(conn: &Connection, id: i64) -> rusqlite::Result<Option<Product>> {
    conn.query_row(
        &format!("SELECT {PRODUCT_COLUMNS} FROM products p WHERE p.id = ?1"),
        [id],
        product_row,
    )
    .optional()
}

pub(crate) fn categories(conn: &Connection) -> rusqlite::Result<Vec<String>> {
    let mut stmt = conn.prepare("SELECT DISTINCT category FROM products ORDER BY category")?;
    let rows = stmt.query_map([], |r| r.get(0))?;
    rows.collect()
}

#[derive(Debug, Clone)]
pub(crate) struct Review {
    pub id: i64,
    pub username: String,
    pub rating: i64,
    pub text: String,
    pub created: String,
}

pub(crate) fn reviews(conn: &Connection, product_id: i64) -> rusqlite::Result<Vec<Review>> {
    let mut stmt = conn.prepare(
        "SELECT r.id, u.username, r.rating, r.text, date(r.created_at, 'unixepoch')
         FROM reviews r JOIN users u ON u.id = r.user_id
         WHERE r.product_id = ?1 ORDER BY r.id DESC",
    )?;
    let rows = stmt.query_map([product_id], |r| {
        Ok(Review {
            id: r.get(0)?,
            username: r.get(1)?,
            rating: r.get(2)?,
            text: r.get(3)?,
            created: r.get(4)?,
        })
    })?;
    rows.collect()
}

pub(crate) fn add_review(
    conn: &Connection,
    product_id: i64,
    user_id: i64,
    rating: i64,
    text: &str,
) -> rusqlite::Result<i64> {
    conn.execute(
        "INSERT INTO reviews (product_id, user_id, rating, text) VALUES (?1, ?2, ?3, ?4)",
        params![product_id, user_id, rating, text],
    )?;
    Ok(conn.last_insert_rowid())
}

#[derive(Debug, Clone)]
pub(crate) struct User {
    pub id: i64,
    pub username: String,
    pub email: String,
    pub name: String,
    pub bio: String,
    pub role: String,
}

impl User {
    pub(crate) fn is_admin(&self) -> bool {
        self.role == "admin"
    }
}

const USER_COLUMNS: &str = "u.id, u.username, u.email, u.name, u.bio, u.role";

fn user_row(r: &Row<'_>) -> rusqlite::Result<User> {
    Ok(User {
        id: r.get(0)?,
        username: r.get(1)?,
        email: r.get(2)?,
        name: r.get(3)?,
        bio: r.get(4)?,
        role: r.get(5)?,
    })
}

pub(crate) fn user(conn: &Connection, id: i64) -> rusqlite::Result<Option<User>> {
    conn.query_row(
        &format!("SELECT {USER_COLUMNS} FROM users u WHERE u.id = ?1"),
        [id],
        user_row,
    )
    .optional()
}

/// The user and the stored password hash, for logging in.
pub(crate) fn user_credentials(
    conn: &Connection,
    username: &str,
) -> rusqlite::Result<Option<(User, String)>> {
    conn.query_row(
        &format!("SELECT {USER_COLUMNS}, u.password_hash FROM users u WHERE u.username = ?1"),
        [username],
        |r| Ok((user_row(r)?, r.get(6)?)),
    )
    .optional()
}

pub(crate) fn username_taken(conn: &Connection, username: &str) -> rusqlite::Result<bool> {
    conn.query_row(
        "SELECT EXISTS (SELECT 1 FROM users WHERE username = ?1 COLLATE NOCASE)",
        [username],
        |r| r.get(0),
    )
}

pub(crate) fn insert_user(
    conn: &Connection,
    username: &str,
    email: &str,
    name: &str,
    password_hash: &str,
) -> rusqlite::Result<i64> {
    conn.execute(
        "INSERT INTO users (username, email, name, password_hash) VALUES (?1, ?2, ?3, ?4)",
        params![username, email, name, password_hash],
    )?;
    Ok(conn.last_insert_rowid())
}

pub(crate) fn update_user(
    conn: &Connection,
    id: i64,
    name: &str,
    email: &str,
    bio: &str,
) -> rusqlite::Result<()> {
    conn.execute(
        "UPDATE users SET name = ?1, email = ?2, bio = ?3 WHERE id = ?4",
        params![name, email, bio, id],
    )?;
    Ok(())
}

/// Session lifetime: one week.
pub(crate) const SESSION_SECONDS: i64 = 7 * 24 * 3600;

pub(crate) fn create_session(conn: &Connection, user_id: i64, token: &str) -> rusqlite::Result<()> {
    conn.execute("DELETE FROM sessions WHERE expires_at <= unixepoch()", [])?;
    conn.execute(
        "INSERT INTO sessions (token, user_id, expires_at) VALUES (?1, ?2, unixepoch() + ?3)",
        params![token, user_id, SESSION_SECONDS],
    )?;
    Ok(())
}

pub(crate) fn session_user(conn: &Connection, token: &str) -> rusqlite::Result<Option<User>> {
    conn.query_row(
        &format!(
            "SELECT {USER_COLUMNS} FROM sessions s JOIN users u ON u.id = s.user_id
             WHERE s.token = ?1 AND s.expires_at > unixepoch()"
        ),
        [token],
        user_row,
    )
    .optional()
}

pub(crate) fn delete_session(conn: &Connection, token: &str) -> rusqlite::Result<()> {
    conn.execute("DELETE FROM sessions WHERE token = ?1", [token])?;
    Ok(())
}

#[derive(Debug, Clone)]
pub(crate) struct CartLine {
    pub product_id: i64,
    pub name: String,
    pub qty: i64,
    pub unit_price_cents: i64,
}

impl CartLine {
    pub(crate) fn line_total(&self) -> i64 {
        self.qty.saturating_mul(self.unit_price_cents)
    }
}

pub(crate) fn cart(conn: &Connection, user_id: i64) -> rusqlite::Result<Vec<CartLine>> {
    let mut stmt = conn.prepare(
        "SELECT c.product_id, p.name, c.qty, p.price_cents
         FROM cart_items c JOIN products p ON p.id = c.product_id
         WHERE c.user_id = ?1 ORDER BY p.name",
    )?;
    let rows = stmt.query_map([user_id], |r| {
        Ok(CartLine {
            product_id: r.get(0)?,
            name: r.get(1)?,
            qty: r.get(2)?,
            unit_price_cents: r.get(3)?,
        })
    })?;
    rows.collect()
}

/// Largest quantity of one product in a cart or an order line.
pub(crate) const MAX_QTY: i64 = 99;

/// Adds `qty` of a product to the cart, capping the line at [`MAX_QTY`].
pub(crate) fn add_to_cart(
    conn: &Connection,
    user_id: i64,
    product_id: i64,
    qty: i64,
) -> rusqlite::Result<()> {
    conn.execute(
        "INSERT INTO cart_items (user_id, product_id, qty) VALUES (?1, ?2, ?3)
         ON CONFLICT (user_id, product_id) DO UPDATE SET qty = MIN(?4, qty + excluded.qty)",
        params![user_id, product_id, qty, MAX_QTY],
    )?;
    Ok(())
}

pub(crate) fn remove_from_cart(
    conn: &Connection,
    user_id: i64,
    product_id: i64,
) -> rusqlite::Result<()> {
    conn.execute(
        "DELETE FROM cart_items WHERE user_id = ?1 AND product_id = ?2",
        params![user_id, product_id],
    )?;
    Ok(())
}

#[derive(Debug, Clone)]
pub(crate) struct OrderLine {
    pub product_id: i64,
    pub name: String,
    pub qty: i64,
    pub unit_price_cents: i64,
}

#[derive(Debug, Clone)]
pub(crate) struct Order {
    pub id: i64,
    pub user_id: i64,
    pub name: String,
    pub address: String,
    pub card_last4: Option<String>,
    pub total_cents: i64,
    pub status: String,
    pub note: String,
    pub source: String,
    pub created: String,
    pub lines: Vec<OrderLine>,
}

/// A new order: the lines carry the unit price at the time of ordering.
#[derive(Debug)]
pub(crate) struct NewOrder<'a> {
    pub user_id: i64,
    pub name: &'a str,
    pub address: &'a str,
    pub card_last4: Option<&'a str>,
    pub note: &'a str,
    pub source: &'a str,
    pub lines: &'a [(i64, i64, i64)],
}

/// Inserts an order and its lines in one transaction; clears the cart when `clear_cart`.
pub(crate) fn insert_order(
    conn: &mut Connection,
    order: &NewOrder<'_>,
    clear_cart: bool,
) -> rusqlite::Result<(i64, i64)> {
    let total: i64 = order
        .lines
        .iter()
        .map(|(_, qty, price)| qty.saturating_mul(*price))
        .sum();
    let tx = conn.transaction()?;
    tx.execute(
        "INSERT INTO orders (user_id, name, address, card_last4, total_cents, note, source)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        params![
            order.user_id,
            order.name,
            order.address,
            order.card_last4,
            total,
            order.note,
            order.source
        ],
    )?;
    let id = tx.last_insert_rowid();
    for (product_id, qty, price) in order.lines {
        tx.execute(
            "INSERT INTO order_items (order_id, product_id, qty, unit_price_cents) VALUES (?1, ?2, ?3, ?4)",
            params![id, product_id, qty, price],
        )?;
    }
    if clear_cart {
        tx.execute("DELETE FROM cart_items WHERE user_id = ?1", [order.user_id])?;
    }
    tx.commit()?;
    Ok((id, total))
}

fn order_lines(conn: &Connection, order_id: i64) -> rusqlite::Result<Vec<OrderLine>> {
    let mut stmt = conn.prepare(
        "SELECT i.product_id, p.name, i.qty, i.unit_price_cents
         FROM order_items i JOIN products p ON p.id = i.product_id
         WHERE i.order_id = ?1 ORDER BY i.rowid",
    )?;
    let rows = stmt.query_map([order_id], |r| {
        Ok(OrderLine {
            product_id: r.get(0)?,
            name: r.get(1)?,
            qty: r.get(2)?,
            unit_price_cents: r.get(3)?,
        })
    })?;
    rows.collect()
}

const ORDER_COLUMNS: &str =
    "o.id, o.user_id, o.name, o.address, o.card_last4, o.total_cents, o.status, \
     o.note, o.source, datetime(o.created_at, 'unixepoch')";

fn order_row(r: &Row<'_>) -> rusqlite::Result<Order> {
    Ok(Order {
        id: r.get(0)?,
        user_id: r.get(1)?,
        name: r.get(2)?,
        address: r.get(3)?,
        card_last4: r.get(4)?,
        total_cents: r.get(5)?,
        status: r.get(6)?,
        note: r.get(7)?,
        source: r.get(8)?,
        created: r.get(9)?,
        lines: Vec::new(),
    })
}

pub(crate) fn order(conn: &Connection, id: i64) -> rusqlite::Result<Option<Order>> {
    let found = conn
        .query_row(
            &format!("SELECT {ORDER_COLUMNS} FROM orders o WHERE o.id = ?1"),
            [id],
            order_row,
        )
        .optional()?;
    match found {
        Some(mut order) => {
            order.lines = order_lines(conn, order.id)?;
            Ok(Some(order))
        }
        None => Ok(None),
    }
}

pub(crate) fn orders_of(conn: &Connection, user_id: i64) -> rusqlite::Result<Vec<Order>> {
    let mut stmt = conn.prepare(&format!(
        "SELECT {ORDER_COLUMNS} FROM orders o WHERE o.user_id = ?1 ORDER BY o.id DESC"
    ))?;
    let mut orders = stmt
        .query_map([user_id], order_row)?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    for order in &mut orders {
        order.lines = order_lines(conn, order.id)?;
    }
    Ok(orders)
}

/// The current year and month, from SQLite's clock.
pub(crate) fn current_year_month(conn: &Connection) -> rusqlite::Result<(i64, i64)> {
    conn.query_row(
        "SELECT CAST(strftime('%Y', 'now') AS INTEGER), CAST(strftime('%m', 'now') AS INTEGER)",
        [],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )
}

pub(crate) fn ping(conn: &Connection) -> rusqlite::Result<()> {
    conn.query_row("SELECT 1", [], |_| Ok(()))
}

/// Formats cents as a price: `1234` -> `"12.34"`.
pub(crate) fn money(cents: i64) -> String {
    let sign = if cents < 0 { "-" } else { "" };
    let abs = cents.unsigned_abs();
    format!("{sign}{}.{:02}", abs / 100, abs % 100)
}

/// Cents as a JSON number (for the API and GraphQL).
pub(crate) fn price_number(cents: i64) -> f64 {
    // Exact enough: shop prices are far below 2^53 cents.
    cents as f64 / 100.0
}
