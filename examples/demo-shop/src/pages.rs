//! The HTML side of the shop: layout, pages and form handlers.

use std::fmt::Write as _;

use http::StatusCode;

use crate::db::{self, Product, Review, Sort, User};
use crate::shop;
use crate::web::{self, esc, url_encode, AppError, AppResult, Resp};
use crate::{App, Ctx};

const PAGE_SIZE: i64 = 12;

/// The shared page layout: header with navigation and search, main content, footer.
pub(crate) fn layout(title: &str, user: Option<&User>, body: &str) -> String {
    let account = match user {
        Some(u) => format!(
            r#"<a href="/orders">Orders</a><a href="/profile">{}</a>
<form class="inline" method="post" action="/logout"><button type="submit" class="link">Log out</button></form>"#,
            esc(&u.username)
        ),
        None => r#"<a href="/login">Log in</a><a href="/register">Register</a>"#.to_owned(),
    };
    format!(
        r#"<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title} · Rampart Demo Shop</title>
<link rel="stylesheet" href="/static/app.css">
</head>
<body>
<header class="site">
<a class="brand" href="/">Rampart Demo Shop</a>
<form class="search" method="get" action="/search"><input type="search" name="q" placeholder="Search products" aria-label="Search"><button type="submit">Search</button></form>
<nav><a href="/search">Catalog</a><a href="/cart">Cart</a>{account}</nav>
</header>
<main>
{body}
</main>
<footer class="site">
<p>Rampart Demo Shop, a demonstration application. <a href="/download?file=catalog.csv">Catalog (CSV)</a> · <a href="/download?file=terms.txt">Terms</a> · <a href="/api/health">API status</a></p>
</footer>
</body>
</html>
"#,
        title = esc(title),
    )
}

fn page(status: StatusCode, title: &str, user: Option<&User>, body: &str) -> Resp {
    web::html(status, layout(title, user, body))
}

fn errors_box(errors: &[String]) -> String {
    if errors.is_empty() {
        return String::new();
    }
    let mut out = String::from(r#"<div class="errors" role="alert"><ul>"#);
    for e in errors {
        let _ = write!(out, "<li>{}</li>", esc(e));
    }
    out.push_str("</ul></div>");
    out
}

fn stars(rating: f64) -> String {
    let full = rating.round().clamp(0.0, 5.0) as usize;
    format!("{}{}", "★".repeat(full), "☆".repeat(5 - full))
}

fn product_card(p: &Product) -> String {
    let rating = p.rating.map_or_else(
        || "<span class=\"muted\">No reviews yet</span>".to_owned(),
        |r| {
            format!(
                "<span class=\"stars\" title=\"{r:.1} out of 5\">{}</span> ({})",
                stars(r),
                p.review_count
            )
        },
    );
    format!(
        r#"<article class="card"><h3><a href="/products/{id}">{name}</a></h3>
<p class="category"><a href="/search?category={cat_q}">{cat}</a></p>
<p class="price">${price}</p><p>{rating}</p></article>"#,
        id = p.id,
        name = esc(&p.name),
        cat_q = url_encode(&p.category),
        cat = esc(&p.category),
        price = db::money(p.price_cents),
    )
}

/// The error page for HTML routes.
pub(crate) fn error_page(ctx: &Ctx, err: &AppError) -> Resp {
    let status = err.status();
    let (title, text) = match err {
        AppError::NotFound => (
            "Page not found",
            "Sorry, we could not find that page.".to_owned(),
        ),
        AppError::Internal => (
            "Something went wrong",
            "Please try again in a moment.".to_owned(),
        ),
        other => (
            status.canonical_reason().unwrap_or("Error"),
            other.message(),
        ),
    };
    let body = format!(
        r#"<section class="narrow"><h1>{}</h1><p>{}</p><p><a href="/">Back to the shop</a></p></section>"#,
        esc(title),
        esc(&text)
    );
    page(status, title, ctx.user.as_ref(), &body)
}

pub(crate) async fn home(app: &App, ctx: &Ctx) -> AppResult<Resp> {
    let (featured, categories) = app
        .db(|c| Ok((db::featured_products(c)?, db::categories(c)?)))
        .await?;
    let mut body = String::from(
        r#"<section class="hero"><h1>Good things, fairly priced</h1><p>Books, gadgets and gear for everyday life. Free shipping on orders over $50.</p></section>
<h2>Featured</h2><div class="grid">"#,
    );
    for p in &featured {
        body.push_str(&product_card(p));
    }
    body.push_str("</div><h2>Shop by category</h2><ul class=\"categories\">");
    for c in &categories {
        let _ = write!(
            body,
            r#"<li><a href="/search?category={}">{}</a></li>"#,
            url_encode(c),
            esc(c)
        );
    }
    body.push_str("</ul>");
    Ok(page(StatusCode::OK, "Home", ctx.user.as_ref(), &body))
}

pub(crate) async fn search(app: &App, ctx: &Ctx) -> AppResult<Resp> {
    let params = ctx.query()?;
    let q = params.str("q").trim().to_owned();
    let category = params.str("category").trim().to_owned();
    let sort = Sort::parse(params.str("sort"));
    let page_no = params.int("page")?.unwrap_or(1).clamp(1, 10_000);
    if q.chars().count() > 200 {
        return Err(AppError::bad("search text is too long"));
    }
    let (q2, cat2) = (q.clone(), category.clone());
    let ((products, total), categories) = app
        .db(move |c| {
            let found =
                db::search_products(c, &q2, &cat2, sort, PAGE_SIZE, (page_no - 1) * PAGE_SIZE)?;
            Ok((found, db::categories(c)?))
        })
        .await?;

    let mut body = String::from("<h1>Catalog</h1>");
    let _ = write!(
        body,
        r#"<form class="filters" method="get" action="/search"><input type="search" name="q" value="{}" placeholder="Search" aria-label="Search text"><select name="category" aria-label="Category"><option value="">All categories</option>"#,
        esc(&q)
    );
    for c in &categories {
        let sel = if *c == category { " selected" } else { "" };
        let _ = write!(body, r#"<option value="{0}"{sel}>{0}</option>"#, esc(c));
    }
    body.push_str(r#"</select><select name="sort" aria-label="Sort">"#);
    for (s, key, label) in Sort::ALL {
        let sel = if s == sort { " selected" } else { "" };
        let _ = write!(body, r#"<option value="{key}"{sel}>{label}</option>"#);
    }
    body.push_str(r#"</select><button type="submit">Apply</button></form>"#);
    let what = if q.is_empty() {
        String::new()
    } else {
        format!(" for “{}”", esc(&q))
    };
    let _ = write!(
        body,
        r#"<p class="count">{total} result{}{what}</p>"#,
        if total == 1 { "" } else { "s" }
    );
    if products.is_empty() {
        body.push_str(r#"<p class="muted">No products match your search. Try fewer words or another category.</p>"#);
    } else {
        body.push_str(r#"<div class="grid">"#);
        for p in &products {
            body.push_str(&product_card(p));
        }
        body.push_str("</div>");
    }
    let pages = (total + PAGE_SIZE - 1) / PAGE_SIZE;
    if pages > 1 {
        body.push_str(r#"<nav class="pages">"#);
        for n in 1..=pages {
            if n == page_no {
                let _ = write!(body, "<strong>{n}</strong>");
            } else {
                let _ = write!(
                    body,
                    r#"<a href="/search?q={}&amp;category={}&amp;sort={}&amp;page={n}">{n}</a>"#,
                    url_encode(&q),
                    url_encode(&category),
                    sort.key()
                );
            }
        }
        body.push_str("</nav>");
    }
    Ok(page(StatusCode::OK, "Search", ctx.user.as_ref(), &body))
}

fn product_body(
    p: &Product,
    reviews: &[Review],
    user: Option<&User>,
    errors: &[String],
    draft: &str,
) -> String {
    let mut body = format!(
        r#"<nav class="crumbs"><a href="/">Home</a> › <a href="/search?category={cat_q}">{cat}</a></nav>
<article class="product"><h1>{name}</h1><p class="price">${price}</p><p>{desc}</p>
<form class="buy" method="post" action="/cart/add"><input type="hidden" name="product_id" value="{id}">
<label>Quantity <input type="number" name="qty" value="1" min="1" max="{max}"></label><button type="submit">Add to cart</button></form></article>
<section id="reviews"><h2>Reviews ({count})</h2>"#,
        id = p.id,
        name = esc(&p.name),
        cat_q = url_encode(&p.category),
        cat = esc(&p.category),
        price = db::money(p.price_cents),
        desc = esc(&p.description),
        max = db::MAX_QTY,
        count = reviews.len(),
    );
    if reviews.is_empty() {
        body.push_str(r#"<p class="muted">No reviews yet. Be the first!</p>"#);
    }
    for r in reviews {
        let _ = write!(
            body,
            r#"<div class="review" id="review-{}"><p><span class="stars">{}</span> by <strong>{}</strong> on {}</p><p>{}</p></div>"#,
            r.id,
            stars(r.rating as f64),
            esc(&r.username),
            esc(&r.created),
            esc(&r.text)
        );
    }
    if user.is_some() {
        let _ = write!(
            body,
            r#"<h3>Write a review</h3>{errors}<form method="post" action="/products/{id}/reviews">
<label>Rating <select name="rating"><option value="5">5 - Excellent</option><option value="4">4 - Good</option><option value="3">3 - Fair</option><option value="2">2 - Poor</option><option value="1">1 - Bad</option></select></label>
<label>Your review <textarea name="text" rows="4" maxlength="2000" required>{draft}</textarea></label><button type="submit">Post review</button></form>"#,
            errors = errors_box(errors),
            id = p.id,
            draft = esc(draft),
        );
    } else {
        let _ = write!(
            body,
            r#"<p><a href="/login?next=/products/{}">Log in</a> to write a review.</p>"#,
            p.id
        );
    }
    body.push_str("</section>");
    body
}

pub(crate) async fn product(app: &App, ctx: &Ctx, id: i64) -> AppResult<Resp> {
    let (product, reviews) = app
        .db(move |c| {
            let p = db::product(c, id)?.ok_or(AppError::NotFound)?;
            Ok((p, db::reviews(c, id)?))
        })
        .await?;
    let body = product_body(&product, &reviews, ctx.user.as_ref(), &[], "");
    Ok(page(
        StatusCode::OK,
        &product.name,
        ctx.user.as_ref(),
        &body,
    ))
}

pub(crate) async fn post_review(app: &App, ctx: &Ctx, id: i64) -> AppResult<Resp> {
    let user = ctx.require_user()?.clone();
    let form = ctx.form()?;
    let rating = form.int("rating").unwrap_or(None);
    let text = form.str("text").to_owned();
    let user_id = user.id;
    let text2 = text.clone();
    let result = app
        .db(move |c| shop::add_review(c, id, user_id, rating, &text2))
        .await;
    match result {
        Ok(_) => Ok(web::redirect(&format!("/products/{id}#reviews"))),
        Err(AppError::Invalid(errors)) => {
            let (product, reviews) = app
                .db(move |c| {
                    Ok((
                        db::product(c, id)?.ok_or(AppError::NotFound)?,
                        db::reviews(c, id)?,
                    ))
                })
                .await?;
            let body = product_body(&product, &reviews, Some(&user), &errors, &text);
            Ok(page(
                StatusCode::UNPROCESSABLE_ENTITY,
                &product.name,
                Some(&user),
                &body,
            ))
        }
        Err(e) => Err(e),
    }
}

fn login_form(next: &str, username: &str, error: Option<&str>) -> String {
    let error = error
        .map(|e| errors_box(&[e.to_owned()]))
        .unwrap_or_default();
    format!(
        r#"<section class="narrow"><h1>Log in</h1>{error}<form method="post" action="/login">
<input type="hidden" name="next" value="{next}">
<label>Username <input name="username" value="{username}" autocomplete="username" required></label>
<label>Password <input type="password" name="password" autocomplete="current-password" required></label>
<button type="submit">Log in</button></form><p>New here? <a href="/register">Create an account</a>.</p></section>"#,
        next = esc(next),
        username = esc(username),
    )
}

pub(crate) async fn login_get(ctx: &Ctx) -> AppResult<Resp> {
    let params = ctx.query()?;
    let next = web::safe_next(params.str("next"));
    Ok(page(
        StatusCode::OK,
        "Log in",
        ctx.user.as_ref(),
        &login_form(next, "", None),
    ))
}

pub(crate) async fn login_post(app: &App, ctx: &Ctx) -> AppResult<Resp> {
    let form = ctx.form()?;
    let next = web::safe_next(form.str("next")).to_owned();
    let username = form.str("username").trim().to_owned();
    match app.login(&username, form.str("password")).await? {
        Some((_, token)) => Ok(web::with_cookie(
            web::redirect(&next),
            &crate::auth::session_cookie(&token),
        )),
        None => Ok(page(
            StatusCode::UNAUTHORIZED,
            "Log in",
            None,
            &login_form(&next, &username, Some("Invalid username or password.")),
        )),
    }
}

pub(crate) async fn logout(app: &App, ctx: &Ctx) -> AppResult<Resp> {
    if let Some(token) = ctx.token.clone() {
        app.db(move |c| Ok(db::delete_session(c, &token)?)).await?;
    }
    Ok(web::with_cookie(
        web::redirect("/"),
        &crate::auth::clear_session_cookie(),
    ))
}

fn register_form(reg: &shop::Registration, errors: &[String]) -> String {
    format!(
        r#"<section class="narrow"><h1>Create an account</h1>{errors}<form method="post" action="/register">
<label>Username <input name="username" value="{username}" autocomplete="username" required></label>
<label>Email <input type="email" name="email" value="{email}" autocomplete="email" required></label>
<label>Full name <input name="name" value="{name}" autocomplete="name" required></label>
<label>Password <input type="password" name="password" minlength="8" autocomplete="new-password" required></label>
<button type="submit">Register</button></form><p>Already registered? <a href="/login">Log in</a>.</p></section>"#,
        errors = errors_box(errors),
        username = esc(&reg.username),
        email = esc(&reg.email),
        name = esc(&reg.name),
    )
}

pub(crate) async fn register_get(ctx: &Ctx) -> AppResult<Resp> {
    let body = register_form(&shop::Registration::default(), &[]);
    Ok(page(StatusCode::OK, "Register", ctx.user.as_ref(), &body))
}

pub(crate) async fn register_post(app: &App, ctx: &Ctx) -> AppResult<Resp> {
    let form = ctx.form()?;
    let reg = shop::Registration {
        username: form.str("username").to_owned(),
        email: form.str("email").to_owned(),
        password: form.str("password").to_owned(),
        name: form.str("name").to_owned(),
    };
    match app.register(reg).await {
        Ok((_, token)) => Ok(web::with_cookie(
            web::redirect("/"),
            &crate::auth::session_cookie(&token),
        )),
        Err((reg, AppError::Invalid(errors))) => Ok(page(
            StatusCode::UNPROCESSABLE_ENTITY,
            "Register",
            ctx.user.as_ref(),
            &register_form(&reg, &errors),
        )),
        Err((_, e)) => Err(e),
    }
}

fn cart_table(lines: &[db::CartLine], editable: bool) -> String {
    let mut body = String::from(
        r#"<table class="cart"><thead><tr><th>Product</th><th>Price</th><th>Qty</th><th>Total</th><th></th></tr></thead><tbody>"#,
    );
    let mut total = 0i64;
    for l in lines {
        total = total.saturating_add(l.line_total());
        let remove = if editable {
            format!(
                r#"<form method="post" action="/cart/remove"><input type="hidden" name="product_id" value="{}"><button type="submit" class="link">Remove</button></form>"#,
                l.product_id
            )
        } else {
            String::new()
        };
        let _ = write!(
            body,
            r#"<tr><td><a href="/products/{}">{}</a></td><td>${}</td><td>{}</td><td>${}</td><td>{remove}</td></tr>"#,
            l.product_id,
            esc(&l.name),
            db::money(l.unit_price_cents),
            l.qty,
            db::money(l.line_total())
        );
    }
    let _ = write!(
        body,
        r#"</tbody><tfoot><tr><th colspan="3">Total</th><th>${}</th><th></th></tr></tfoot></table>"#,
        db::money(total)
    );
    body
}

pub(crate) async fn cart(app: &App, ctx: &Ctx) -> AppResult<Resp> {
    let user = ctx.require_user()?;
    let uid = user.id;
    let lines = app.db(move |c| Ok(db::cart(c, uid)?)).await?;
    let mut body = String::from("<h1>Your cart</h1>");
    if lines.is_empty() {
        body.push_str(r#"<p>Your cart is empty. <a href="/search">Browse the catalog</a>.</p>"#);
    } else {
        body.push_str(&cart_table(&lines, true));
        body.push_str(r#"<p><a class="button" href="/checkout">Proceed to checkout</a></p>"#);
    }
    Ok(page(StatusCode::OK, "Cart", Some(user), &body))
}

pub(crate) async fn cart_add(app: &App, ctx: &Ctx) -> AppResult<Resp> {
    let uid = ctx.require_user()?.id;
    let form = ctx.form()?;
    let product_id = form
        .int("product_id")?
        .ok_or_else(|| AppError::bad("product_id is required"))?;
    let qty = form.int("qty")?.unwrap_or(1);
    app.db(move |c| shop::add_to_cart(c, uid, product_id, qty))
        .await?;
    Ok(web::redirect("/cart"))
}

pub(crate) async fn cart_remove(app: &App, ctx: &Ctx) -> AppResult<Resp> {
    let uid = ctx.require_user()?.id;
    let form = ctx.form()?;
    let product_id = form
        .int("product_id")?
        .ok_or_else(|| AppError::bad("product_id is required"))?;
    app.db(move |c| Ok(db::remove_from_cart(c, uid, product_id)?))
        .await?;
    Ok(web::redirect("/cart"))
}

fn checkout_body(lines: &[db::CartLine], p: &shop::Payment, errors: &[String]) -> String {
    if lines.is_empty() {
        return r#"<h1>Checkout</h1><p>Your cart is empty. <a href="/search">Browse the catalog</a>.</p>"#.to_owned();
    }
    format!(
        r#"<h1>Checkout</h1>{table}{errors}<form method="post" action="/checkout" class="checkout">
<fieldset><legend>Shipping</legend>
<label>Full name <input name="name" value="{name}" autocomplete="name" required></label>
<label>Address <textarea name="address" rows="3" autocomplete="street-address" required>{address}</textarea></label></fieldset>
<fieldset><legend>Payment</legend>
<label>Card number <input name="card_number" inputmode="numeric" autocomplete="cc-number" required></label>
<label>Expiry (MM/YY) <input name="expiry" value="{expiry}" autocomplete="cc-exp" placeholder="MM/YY" required></label>
<label>Security code <input name="cvv" inputmode="numeric" autocomplete="cc-csc" maxlength="4" required></label></fieldset>
<button type="submit">Place order</button></form>"#,
        table = cart_table(lines, false),
        errors = errors_box(errors),
        name = esc(&p.name),
        address = esc(&p.address),
        expiry = esc(&p.expiry),
    )
}

pub(crate) async fn checkout_get(app: &App, ctx: &Ctx) -> AppResult<Resp> {
    let user = ctx.require_user()?;
    let uid = user.id;
    let lines = app.db(move |c| Ok(db::cart(c, uid)?)).await?;
    let prefill = shop::Payment {
        name: user.name.clone(),
        ..Default::default()
    };
    Ok(page(
        StatusCode::OK,
        "Checkout",
        Some(user),
        &checkout_body(&lines, &prefill, &[]),
    ))
}

pub(crate) async fn checkout_post(app: &App, ctx: &Ctx) -> AppResult<Resp> {
    let user = ctx.require_user()?;
    let uid = user.id;
    let form = ctx.form()?;
    let payment = shop::Payment {
        name: form.str("name").to_owned(),
        address: form.str("address").to_owned(),
        card_number: form.str("card_number").to_owned(),
        expiry: form.str("expiry").to_owned(),
        cvv: form.str("cvv").to_owned(),
    };
    let result = app
        .db(move |c| match shop::checkout(c, uid, &payment) {
            Ok((id, _)) => Ok(Ok(id)),
            Err(AppError::Invalid(errors)) => Ok(Err((db::cart(c, uid)?, payment, errors))),
            Err(e) => Err(e),
        })
        .await?;
    match result {
        Ok(id) => Ok(web::redirect(&format!("/orders/{id}"))),
        Err((lines, payment, errors)) => Ok(page(
            StatusCode::UNPROCESSABLE_ENTITY,
            "Checkout",
            Some(user),
            &checkout_body(&lines, &payment, &errors),
        )),
    }
}

pub(crate) async fn orders(app: &App, ctx: &Ctx) -> AppResult<Resp> {
    let user = ctx.require_user()?;
    let uid = user.id;
    let orders = app.db(move |c| Ok(db::orders_of(c, uid)?)).await?;
    let mut body = String::from("<h1>Your orders</h1>");
    if orders.is_empty() {
        body.push_str(r#"<p>You have not placed any orders yet.</p>"#);
    } else {
        body.push_str(r#"<table><thead><tr><th>Order</th><th>Date</th><th>Status</th><th>Total</th></tr></thead><tbody>"#);
        for o in &orders {
            let _ = write!(
                body,
                r#"<tr><td><a href="/orders/{0}">#{0}</a></td><td>{1}</td><td>{2}</td><td>${3}</td></tr>"#,
                o.id,
                esc(&o.created),
                esc(&o.status),
                db::money(o.total_cents)
            );
        }
        body.push_str("</tbody></table>");
    }
    Ok(page(StatusCode::OK, "Orders", Some(user), &body))
}

pub(crate) async fn order(app: &App, ctx: &Ctx, id: i64) -> AppResult<Resp> {
    let user = ctx.require_user()?;
    let viewer = user.clone();
    let order = app.db(move |c| shop::visible_order(c, &viewer, id)).await?;
    let lines: Vec<db::CartLine> = order
        .lines
        .iter()
        .map(|l| db::CartLine {
            product_id: l.product_id,
            name: l.name.clone(),
            qty: l.qty,
            unit_price_cents: l.unit_price_cents,
        })
        .collect();
    let payment = order.card_last4.as_ref().map_or_else(
        || "Invoice".to_owned(),
        |d| format!("Card ending in {}", esc(d)),
    );
    let note = if order.note.is_empty() {
        String::new()
    } else {
        format!("<p><strong>Note:</strong> {}</p>", esc(&order.note))
    };
    let body = format!(
        r#"<h1>Order #{id}</h1><p class="status">Status: {status} · placed {created}</p>
<p><strong>Ship to:</strong> {name}<br>{address}</p><p><strong>Payment:</strong> {payment}</p>{note}{table}
<p><a href="/download?file=invoice-sample.pdf">Download a sample invoice (PDF)</a></p>"#,
        id = order.id,
        status = esc(&order.status),
        created = esc(&order.created),
        name = esc(&order.name),
        address = esc(&order.address).replace('\n', "<br>"),
        table = cart_table(&lines, false),
    );
    Ok(page(
        StatusCode::OK,
        &format!("Order #{id}"),
        Some(user),
        &body,
    ))
}

fn profile_body(
    user: &User,
    name: &str,
    email: &str,
    bio: &str,
    errors: &[String],
    saved: bool,
) -> String {
    let saved = if saved {
        r#"<p class="notice">Your profile was saved.</p>"#
    } else {
        ""
    };
    format!(
        r#"<section class="narrow"><h1>Your profile</h1><p>Signed in as <strong>{username}</strong>.</p>{saved}{errors}
<form method="post" action="/profile">
<label>Full name <input name="name" value="{name}" required></label>
<label>Email <input type="email" name="email" value="{email}" required></label>
<label>About you <textarea name="bio" rows="4" maxlength="1000">{bio}</textarea></label>
<button type="submit">Save</button></form></section>"#,
        username = esc(&user.username),
        errors = errors_box(errors),
        name = esc(name),
        email = esc(email),
        bio = esc(bio),
    )
}

pub(crate) async fn profile_get(ctx: &Ctx) -> AppResult<Resp> {
    let user = ctx.require_user()?;
    let saved = ctx.query()?.get("saved").is_some();
    let body = profile_body(user, &user.name, &user.email, &user.bio, &[], saved);
    Ok(page(StatusCode::OK, "Profile", Some(user), &body))
}

pub(crate) async fn profile_post(app: &App, ctx: &Ctx) -> AppResult<Resp> {
    let user = ctx.require_user()?;
    let uid = user.id;
    let form = ctx.form()?;
    let (name, email, bio) = (
        form.str("name").to_owned(),
        form.str("email").to_owned(),
        form.str("bio").to_owned(),
    );
    let (n, e, b) = (name.clone(), email.clone(), bio.clone());
    match app
        .db(move |c| shop::update_profile(c, uid, &n, &e, &b))
        .await
    {
        Ok(_) => Ok(web::redirect("/profile?saved=1")),
        Err(AppError::Invalid(errors)) => Ok(page(
            StatusCode::UNPROCESSABLE_ENTITY,
            "Profile",
            Some(user),
            &profile_body(user, &name, &email, &bio, &errors, false),
        )),
        Err(e) => Err(e),
    }
}

/// Where to send a visitor after logging in, when a page needed a login.
pub(crate) fn login_redirect(ctx: &Ctx) -> Resp {
    let next = if ctx.method == http::Method::GET {
        match &ctx.raw_query {
            Some(q) => format!("{}?{q}", ctx.path),
            None => ctx.path.clone(),
        }
    } else if let Some(rest) = ctx.path.strip_prefix("/products/") {
        format!("/products/{}", rest.split('/').next().unwrap_or_default())
    } else if ctx.path.starts_with("/cart") {
        "/cart".to_owned()
    } else {
        ctx.path.clone()
    };
    let next = web::safe_next(&next);
    web::redirect(&format!("/login?next={}", url_encode(next)))
}
