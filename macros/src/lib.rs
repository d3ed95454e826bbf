//! `#[ember::main]` and `#[ember::test]`: run an `async fn` on an ember runtime.
//!
//! Both attributes rewrite `async fn name() -> T { body }` into a plain
//! `fn name() -> T` that builds a runtime and calls `block_on` on the body.
//! They are written on `proc_macro` alone, without `syn`, because the
//! rewrite only needs to find three things in the token stream: the `async`
//! keyword, the return type and the body block. That keeps ember's build
//! free of a parser it would otherwise compile for two small attributes.
//!
//! Arguments, as in tokio:
//! - `flavor = "multi_thread"` (the default for `main`) or
//!   `flavor = "current_thread"` (the default for `test`).
//! - `worker_threads = N`: the multi-thread runtime's worker count (default:
//!   one per CPU).
//! - `start_paused = true`: start the runtime's clock paused; it then jumps
//!   to the next timer deadline whenever the runtime would otherwise sleep.
//!   Current-thread runtimes only.
//!
//! Use them through the facade: `#[ember::main]`, `#[ember::test]`.

#![forbid(unsafe_code)]

use proc_macro::{Delimiter, Group, Ident, Literal, Punct, Spacing, Span, TokenStream, TokenTree};

/// Runs `async fn main` on an ember runtime: multi-thread by default,
/// `#[ember::main(flavor = "current_thread")]` for one thread.
///
/// ```
/// #[ember::main]
/// async fn main() {
///     ember::time::sleep(std::time::Duration::from_millis(1)).await;
/// }
/// ```
#[proc_macro_attribute]
pub fn main(args: TokenStream, item: TokenStream) -> TokenStream {
    expand(args, item, false)
}

/// Runs an `async fn` test on a fresh ember runtime: current-thread by
/// default, `#[ember::test(flavor = "multi_thread", worker_threads = 2)]`
/// for a pool.
///
/// ```
/// #[ember::test(start_paused = true)]
/// async fn waits_a_minute_instantly() {
///     ember::time::sleep(std::time::Duration::from_secs(60)).await;
/// }
/// ```
#[proc_macro_attribute]
pub fn test(args: TokenStream, item: TokenStream) -> TokenStream {
    expand(args, item, true)
}

/// What the attribute's arguments asked for.
struct Config {
    multi_thread: bool,
    worker_threads: Option<String>,
    start_paused: bool,
}

fn expand(args: TokenStream, item: TokenStream, is_test: bool) -> TokenStream {
    let config = match parse_args(args, !is_test) {
        Ok(config) => config,
        Err((span, msg)) => return compile_error(span, &msg),
    };
    match rewrite(item, &config, is_test) {
        Ok(tokens) => tokens,
        Err((span, msg)) => compile_error(span, &msg),
    }
}

/// Parses `key = value, ...`.
fn parse_args(args: TokenStream, multi_thread: bool) -> Result<Config, (Span, String)> {
    let mut config = Config {
        multi_thread,
        worker_threads: None,
        start_paused: false,
    };
    let tokens: Vec<TokenTree> = args.into_iter().collect();
    for pair in tokens.split(|t| matches!(t, TokenTree::Punct(p) if p.as_char() == ',')) {
        if pair.is_empty() {
            continue;
        }
        let (key, value) = match pair {
            [TokenTree::Ident(key), TokenTree::Punct(eq), value] if eq.as_char() == '=' => {
                (key, value)
            }
            _ => {
                return Err((
                    pair[0].span(),
                    "expected `key = value`, e.g. `flavor = \"current_thread\"`".into(),
                ))
            }
        };
        let value_text = value.to_string();
        match key.to_string().as_str() {
            "flavor" => match value_text.trim_matches('"') {
                "current_thread" => config.multi_thread = false,
                "multi_thread" => config.multi_thread = true,
                other => {
                    return Err((
                        value.span(),
                        format!(
                            "unknown flavor `{other}`: expected \"multi_thread\" or \"current_thread\""
                        ),
                    ))
                }
            },
            "worker_threads" => match value_text.parse::<usize>() {
                Ok(n) if n > 0 => config.worker_threads = Some(value_text),
                _ => {
                    return Err((
                        value.span(),
                        "`worker_threads` takes a whole number of at least 1".into(),
                    ))
                }
            },
            "start_paused" => {
                config.start_paused = match value_text.as_str() {
                    "true" => true,
                    "false" => false,
                    _ => {
                        return Err((
                            value.span(),
                            "`start_paused` takes `true` or `false`".into(),
                        ))
                    }
                }
            }
            other => {
                return Err((
                    key.span(),
                    format!(
                        "unknown argument `{other}`: expected `flavor`, `worker_threads` or `start_paused`"
                    ),
                ))
            }
        }
    }
    if config.worker_threads.is_some() && !config.multi_thread {
        return Err((
            Span::call_site(),
            "`worker_threads` needs `flavor = \"multi_thread\"`".into(),
        ));
    }
    if config.start_paused && config.multi_thread {
        return Err((
            Span::call_site(),
            "`start_paused` needs `flavor = \"current_thread\"`".into(),
        ));
    }
    Ok(config)
}

/// Drops `async`, and replaces the body with one that runs it on a runtime.
fn rewrite(
    item: TokenStream,
    config: &Config,
    is_test: bool,
) -> Result<TokenStream, (Span, String)> {
    let mut tokens: Vec<TokenTree> = item.into_iter().collect();
    let fn_pos = tokens
        .iter()
        .position(|t| matches!(t, TokenTree::Ident(i) if i.to_string() == "fn"))
        .ok_or((Span::call_site(), "expected an `async fn`".to_string()))?;
    let async_pos = tokens[..fn_pos]
        .iter()
        .position(|t| matches!(t, TokenTree::Ident(i) if i.to_string() == "async"))
        .ok_or((
            tokens[fn_pos].span(),
            "the function must be `async fn`".to_string(),
        ))?;
    tokens.remove(async_pos);
    let fn_pos = fn_pos - 1;

    let body_pos = tokens.len() - 1;
    let body = match &tokens[body_pos] {
        TokenTree::Group(g) if g.delimiter() == Delimiter::Brace => g.clone(),
        other => return Err((other.span(), "expected the function body".into())),
    };
    let params_pos = tokens[fn_pos..]
        .iter()
        .position(|t| matches!(t, TokenTree::Group(g) if g.delimiter() == Delimiter::Parenthesis))
        .map(|p| p + fn_pos)
        .ok_or((Span::call_site(), "expected the parameter list".to_string()))?;
    if let TokenTree::Group(params) = &tokens[params_pos] {
        if !params.stream().is_empty() {
            return Err((params.span(), "the function must take no arguments".into()));
        }
    }
    // The return type: the tokens between `->` and the body (or a `where`).
    let output: Vec<TokenTree> = match tokens.get(params_pos + 1..params_pos + 3) {
        Some([TokenTree::Punct(a), TokenTree::Punct(b)])
            if a.as_char() == '-' && b.as_char() == '>' =>
        {
            tokens[params_pos + 3..body_pos]
                .iter()
                .take_while(|t| !matches!(t, TokenTree::Ident(i) if i.to_string() == "where"))
                .cloned()
                .collect()
        }
        _ => Vec::new(),
    };

    let new_body = runtime_body(body, output, config);
    tokens[body_pos] = TokenTree::Group(Group::new(Delimiter::Brace, new_body));

    let mut out = TokenStream::new();
    if is_test {
        out.extend(parse("#[::core::prelude::v1::test]"));
    }
    out.extend(tokens);
    Ok(out)
}

/// `{ let body = pin!(async move BODY); Builder...build().expect(..).block_on(body) }`,
/// with the future's output type spelled out when the function has one, so
/// that `?` inside the body knows which error type to convert into.
fn runtime_body(body: Group, output: Vec<TokenTree>, config: &Config) -> TokenStream {
    let mut out = TokenStream::new();
    out.extend(parse("let body"));
    if !output.is_empty() {
        out.extend(parse(
            ": ::core::pin::Pin<&mut dyn ::core::future::Future<Output =",
        ));
        out.extend(output);
        out.extend(parse(">>"));
    }
    out.extend(parse("= ::core::pin::pin!"));
    let mut future = parse("async move");
    future.extend([TokenTree::Group(body)]);
    out.extend([TokenTree::Group(Group::new(Delimiter::Parenthesis, future))]);
    out.extend(parse(";"));
    if config.multi_thread {
        out.extend(parse(
            "::ember::runtime::Builder::new_multi_thread().enable_all()",
        ));
    } else {
        out.extend(parse(
            "::ember::runtime::Builder::new_current_thread().enable_all()",
        ));
    }
    if let Some(n) = &config.worker_threads {
        out.extend(parse(&format!(".worker_threads({n})")));
    }
    if config.start_paused {
        out.extend(parse(".start_paused(true)"));
    }
    out.extend(parse(".build()"));
    out.extend(parse(".expect(\"failed to start the ember runtime\")"));
    out.extend(parse(".block_on(body)"));
    out
}

fn parse(src: &str) -> TokenStream {
    // The sources passed here are fixed, well-formed fragments of this file.
    src.parse().unwrap_or_default()
}

fn compile_error(span: Span, msg: &str) -> TokenStream {
    let mut tokens = vec![
        TokenTree::Punct(Punct::new(':', Spacing::Joint)),
        TokenTree::Punct(Punct::new(':', Spacing::Alone)),
        TokenTree::Ident(Ident::new("core", span)),
        TokenTree::Punct(Punct::new(':', Spacing::Joint)),
        TokenTree::Punct(Punct::new(':', Spacing::Alone)),
        TokenTree::Ident(Ident::new("compile_error", span)),
        TokenTree::Punct(Punct::new('!', Spacing::Alone)),
    ];
    let mut lit = Literal::string(msg);
    lit.set_span(span);
    let mut args = Group::new(Delimiter::Parenthesis, TokenTree::Literal(lit).into());
    args.set_span(span);
    tokens.push(TokenTree::Group(args));
    tokens.push(TokenTree::Punct(Punct::new(';', Spacing::Alone)));
    for t in &mut tokens {
        t.set_span(span);
    }
    tokens.into_iter().collect()
}
