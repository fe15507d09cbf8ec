//! The JSON API under `/api`. Authentication: `Authorization: Bearer <token>` or the session cookie.

use http::StatusCode;
use serde::de::DeserializeOwned;
use serde::Deserialize;
use serde_json::{json, Value};

use crate::db::{self, Sort};
use crate::shop;
use crate::web::{self, AppError, AppResult, Resp};
use crate::{App, Ctx};

pub(crate) fn error(err: &AppError) -> Resp {
    let mut body = json!({ "error": err.message(), "status": err.status().as_u16() });
    if let AppError::Invalid(details) = err {
        body["details"] = json!(details);
    }
    let resp = web::json(err.status(), &body);
    match err {
        AppError::Unauthorized => web::with_header(
            resp,
            http::header::WWW_AUTHENTICATE,
            r#"Bearer realm="rampart-demo-shop""#,
        ),
        _ => resp,
    }
}

/// Parses a JSON request body into `T`, requiring a JSON content type.
pub(crate) fn body<T: DeserializeOwned>(ctx: &Ctx) -> AppResult<T> {
    match web::media_type(&ctx.headers).as_deref() {
        Some(t)
            if t == "application/json"
                || (t.starts_with("application/") && t.ends_with("+json")) => {}
        _ => return Err(AppError::UnsupportedMediaType("application/json")),
    }
    serde_json::from_slice(&ctx.body).map_err(|e| AppError::bad(format!("invalid JSON body: {e}")))
}

pub(crate) fn product_json(p: &db::Product) -> Value {
    json!({
        "id": p.id,
        "name": p.name,
        "category": p.category,
        "description": p.description,
        "price": db::price_number(p.price_cents),
        "currency": "USD",
        "rating": p.rating.map(|r| (r * 10.0).round() / 10.0),
        "review_count": p.review_count,
        "featured": p.featured,
        "url": format!("/products/{}", p.id),
    })
}

pub(crate) fn user_json(u: &db::User) -> Value {
    json!({ "id": u.id, "username": u.username, "email": u.email, "name": u.name, "bio": u.bio, "role": u.role })
}

fn cart_json(lines: &[db::CartLine]) -> Value {
    let total: i64 = lines.iter().map(db::CartLine::line_total).sum();
    json!({
        "items": lines.iter().map(|l| json!({
            "product_id": l.product_id,
            "name": l.name,
            "qty": l.qty,
            "unit_price": db::price_number(l.unit_price_cents),
            "line_total": db::price_number(l.line_total()),
        })).collect::<Vec<_>>(),
        "total": db::price_number(total),
        "currency": "USD",
    })
}

fn order_json(o: &db::Order) -> Value {
    json!({
        "id": o.id,
        "status": o.status,
        "created_at": o.created,
        "name": o.name,
        "address": o.address,
        "card_last4": o.card_last4,
        "note": o.note,
        "source": o.source,
        "total": db::price_number(o.total_cents),
        "currency": "USD",
        "items": o.lines.iter().map(|l| json!({
            "product_id": l.product_id,
            "name": l.name,
            "qty": l.qty,
            "unit_price": db::price_number(l.unit_price_cents),
        })).collect::<Vec<_>>(),
    })
}

pub(crate) async fn health(app: &App) -> AppResult<Resp> {
    let db_ok = app.db(|c| Ok(db::ping(c).is_ok())).await.unwrap_or(false);
    let status = if db_ok {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    Ok(web::json(
        status,
        &json!({ "status": if db_ok { "ok" } else { "degraded" }, "database": db_ok, "version": env!("CARGO_PKG_VERSION") }),
    ))
}

pub(crate) async fn products(app: &App, ctx: &Ctx) -> AppResult<Resp> {
    let params = ctx.query()?;
    let q = params.str("q").to_owned();
    let category = params.str("category").to_owned();
    let sort = Sort::parse(params.str("sort"));
    let limit = params.int("limit")?.unwrap_or(20);
    let offset = params.int("offset")?.unwrap_or(0);
    if !(1..=100).contains(&limit) {
        return Err(AppError::bad("limit must be between 1 and 100"));
    }
    if !(0..=1_000_000).contains(&offset) {
        return Err(AppError::bad("offset must be between 0 and 1000000"));
    }
    if q.chars().count() > 200 {
        return Err(AppError::bad("q is too long"));
    }
    let (found, total) = app
        .db(move |c| Ok(db::search_products(c, &q, &category, sort, limit, offset)?))
        .await?;
    Ok(web::json(
        StatusCode::OK,
        &json!({
            "products": found.iter().map(product_json).collect::<Vec<_>>(),
            "total": total,
            "limit": limit,
            "offset": offset,
        }),
    ))
}

pub(crate) async fn product(app: &App, id: i64) -> AppResult<Resp> {
    let (p, reviews) = app
        .db(move |c| {
            Ok((
                db::product(c, id)?.ok_or(AppError::NotFound)?,
                db::reviews(c, id)?,
            ))
        })
        .await?;
    let mut body = product_json(&p);
    body["reviews"] = reviews
        .iter()
        .map(|r| json!({ "id": r.id, "author": r.username, "rating": r.rating, "text": r.text, "date": r.created }))
        .collect();
    Ok(web::json(StatusCode::OK, &body))
}

#[derive(Debug, Deserialize)]
struct LoginBody {
    username: String,
    password: String,
}

pub(crate) async fn login(app: &App, ctx: &Ctx) -> AppResult<Resp> {
    let b: LoginBody = body(ctx)?;
    match app.login(b.username.trim(), &b.password).await? {
        Some((user, token)) => Ok(web::json(
            StatusCode::OK,
            &json!({ "token": token, "token_type": "Bearer", "expires_in": db::SESSION_SECONDS, "user": user_json(&user) }),
        )),
        None => Ok(web::json(
            StatusCode::UNAUTHORIZED,
            &json!({ "error": "invalid username or password", "status": 401 }),
        )),
    }
}

#[derive(Debug, Deserialize)]
struct RegisterBody {
    username: String,
    email: String,
    password: String,
    #[serde(default)]
    name: String,
}

pub(crate) async fn register(app: &App, ctx: &Ctx) -> AppResult<Resp> {
    let b: RegisterBody = body(ctx)?;
    let reg = shop::Registration {
        username: b.username,
        email: b.email,
        password: b.password,
        name: b.name,
    };
    let (user, token) = app.register(reg).await.map_err(|(_, e)| e)?;
    let resp = web::json(
        StatusCode::CREATED,
        &json!({ "user": user_json(&user), "token": token, "token_type": "Bearer" }),
    );
    Ok(web::with_header(
        resp,
        http::header::LOCATION,
        &format!("/api/users/{}", user.id),
    ))
}

pub(crate) async fn cart(app: &App, ctx: &Ctx) -> AppResult<Resp> {
    let uid = ctx.require_user()?.id;
    let lines = app.db(move |c| Ok(db::cart(c, uid)?)).await?;
    Ok(web::json(StatusCode::OK, &cart_json(&lines)))
}

#[derive(Debug, Deserialize)]
struct CartBody {
    product_id: i64,
    #[serde(default = "one")]
    qty: i64,
}

fn one() -> i64 {
    1
}

pub(crate) async fn cart_add(app: &App, ctx: &Ctx) -> AppResult<Resp> {
    let uid = ctx.require_user()?.id;
    let b: CartBody = body(ctx)?;
    let lines = app
        .db(move |c| {
            shop::add_to_cart(c, uid, b.product_id, b.qty)?;
            Ok(db::cart(c, uid)?)
        })
        .await?;
    Ok(web::json(StatusCode::OK, &cart_json(&lines)))
}

#[derive(Debug, Deserialize)]
struct CheckoutBody {
    name: String,
    address: String,
    card_number: String,
    expiry: String,
    cvv: String,
}

pub(crate) async fn checkout(app: &App, ctx: &Ctx) -> AppResult<Resp> {
    let uid = ctx.require_user()?.id;
    let b: CheckoutBody = body(ctx)?;
    let payment = shop::Payment {
        name: b.name,
        address: b.address,
        card_number: b.card_number,
        expiry: b.expiry,
        cvv: b.cvv,
    };
    let order = app
        .db(move |c| {
            let (id, _) = shop::checkout(c, uid, &payment)?;
            db::order(c, id)?.ok_or(AppError::Internal)
        })
        .await?;
    let resp = web::json(StatusCode::CREATED, &json!({ "order": order_json(&order) }));
    Ok(web::with_header(
        resp,
        http::header::LOCATION,
        &format!("/orders/{}", order.id),
    ))
}

pub(crate) async fn orders(app: &App, ctx: &Ctx) -> AppResult<Resp> {
    let uid = ctx.require_user()?.id;
    let orders = app.db(move |c| Ok(db::orders_of(c, uid)?)).await?;
    Ok(web::json(
        StatusCode::OK,
        &json!({ "orders": orders.iter().map(order_json).collect::<Vec<_>>() }),
    ))
}

/// The owner and administrators may read and change a user; everyone else gets 403.
fn check_access(ctx: &Ctx, id: i64) -> AppResult<()> {
    let me = ctx.require_user()?;
    if me.id == id || me.is_admin() {
        Ok(())
    } else {
        Err(AppError::Forbidden)
    }
}

pub(crate) async fn user(app: &App, ctx: &Ctx, id: i64) -> AppResult<Resp> {
    check_access(ctx, id)?;
    let user = app
        .db(move |c| db::user(c, id)?.ok_or(AppError::NotFound))
        .await?;
    Ok(web::json(StatusCode::OK, &user_json(&user)))
}

#[derive(Debug, Deserialize)]
struct UserUpdate {
    name: Option<String>,
    email: Option<String>,
    bio: Option<String>,
}

pub(crate) async fn update_user(app: &App, ctx: &Ctx, id: i64) -> AppResult<Resp> {
    check_access(ctx, id)?;
    let b: UserUpdate = body(ctx)?;
    let user = app
        .db(move |c| {
            let current = db::user(c, id)?.ok_or(AppError::NotFound)?;
            shop::update_profile(
                c,
                id,
                b.name.as_deref().unwrap_or(&current.name),
                b.email.as_deref().unwrap_or(&current.email),
                b.bio.as_deref().unwrap_or(&current.bio),
            )
        })
        .await?;
    Ok(web::json(StatusCode::OK, &user_json(&user)))
}
