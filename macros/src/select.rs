//! The code generator behind `runtime::select!` (the facade's `macro_rules!` front passes its
//! `$crate` first, so the generated code names the runtime however the user's crate calls it).
//!
//! ```text
//!  select! { biased;  pat_0 = fut_0, if cond_0 => handler_0,  …  else => fallback }
//!
//!  {
//!      enum Out<T0, …> { _0(T0), …, Disabled }          one variant per branch
//!      let mut disabled: u64 = 0;                         bit i: branch i is off
//!      if !cond_i { disabled |= 1 << i }                  preconditions first, in order
//!      let output = {
//!          let init = (fut_0, …);                         every future is created, even off ones
//!          let mut f_i = pin!(into_future(init.i));
//!          poll_fn(|cx| {                                 from a random start (0 if biased):
//!              poll each branch that is on;               Ready(v): turn it off; if `&v` matches
//!              the pattern without binding by value      `pat_i` → Ready(Out::_i(v)), else go on
//!              all off → Ready(Out::Disabled); else Pending
//!          }).await                                       the futures are dropped here …
//!      };
//!      match output { Out::_i(pat_i) => handler_i, …,     … before the handler runs, so it may
//!                     Out::Disabled => fallback }         `break`, `return`, `?` or reuse what
//!  }                                                      they borrowed
//! ```

use proc_macro2::{Span, TokenStream};
use quote::{format_ident, quote, quote_spanned};
use syn::parse::{Parse, ParseStream};
use syn::spanned::Spanned;
use syn::{Expr, Pat, Token};

/// The most branches one `select!` takes (the width of the `disabled` mask, as tokio).
const MAX_BRANCHES: usize = 64;

struct Branch {
    pat: Pat,
    fut: Expr,
    cond: Option<Expr>,
    handler: Expr,
}

struct Select {
    krate: TokenStream,
    biased: bool,
    branches: Vec<Branch>,
    fallback: Option<Expr>,
}

impl Parse for Select {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        let krate;
        syn::parenthesized!(krate in input);
        let krate: TokenStream = krate.parse()?;
        let biased = if input.peek(syn::Ident) && input.fork().parse::<syn::Ident>().is_ok_and(|i| i == "biased") && input.peek2(Token![;])
        {
            input.parse::<syn::Ident>()?;
            input.parse::<Token![;]>()?;
            true
        } else {
            false
        };
        let mut branches = Vec::new();
        let mut fallback = None;
        while !input.is_empty() {
            if input.peek(Token![else]) {
                let else_token: Token![else] = input.parse()?;
                if fallback.is_some() {
                    return Err(syn::Error::new(else_token.span, "`select!` takes at most one `else` branch"));
                }
                input.parse::<Token![=>]>()?;
                fallback = Some(input.parse::<Expr>()?);
                if !input.is_empty() {
                    input.parse::<Token![,]>()?;
                }
                if !input.is_empty() {
                    return Err(input.error("the `else` branch must be the last branch of `select!`"));
                }
                break;
            }
            let pat = Pat::parse_multi_with_leading_vert(input)?;
            if !input.peek(Token![=]) || input.peek(Token![=>]) {
                return Err(input.error("expected `=` after the pattern: `<pattern> = <async expression> => <handler>`"));
            }
            input.parse::<Token![=]>()?;
            let fut: Expr = input.parse()?;
            let cond = if input.peek(Token![,]) && input.peek2(Token![if]) {
                input.parse::<Token![,]>()?;
                input.parse::<Token![if]>()?;
                Some(input.parse::<Expr>()?)
            } else {
                None
            };
            if !input.peek(Token![=>]) {
                return Err(input.error("expected `=>` before the branch's handler (or `, if <condition> =>`)"));
            }
            input.parse::<Token![=>]>()?;
            // A block ends the handler (as `$h:block` does in tokio's grammar): the next branch
            // may follow without a comma, even one whose pattern starts with `-` or `&`.
            let is_block = input.peek(syn::token::Brace);
            let handler: Expr = if is_block { Expr::Block(input.parse()?) } else { input.parse()? };
            if input.peek(Token![,]) {
                input.parse::<Token![,]>()?;
            } else if !input.is_empty() && !is_block {
                return Err(input.error("expected `,` after the branch's handler"));
            }
            branches.push(Branch { pat, fut, cond, handler });
        }
        Ok(Select { krate, biased, branches, fallback })
    }
}

/// Expands `($crate) <select! input>`.
pub(crate) fn expand(input: TokenStream) -> TokenStream {
    match syn::parse2::<Select>(input) {
        Ok(select) => generate(select),
        Err(e) => e.to_compile_error(),
    }
}

fn generate(select: Select) -> TokenStream {
    let Select { krate, biased, branches, fallback } = select;
    if branches.is_empty() {
        return quote_spanned! {Span::call_site()=>
            ::core::compile_error!("`select!` needs at least one `<pattern> = <async expression> => <handler>` branch")
        };
    }
    if branches.len() > MAX_BRANCHES {
        let span = branches[MAX_BRANCHES].pat.span();
        return quote_spanned! {span=> ::core::compile_error!("`select!` takes at most 64 branches") };
    }
    let n = branches.len();
    let n32 = n as u32;
    let variants: Vec<_> = (0..n).map(|i| format_ident!("_{}", i)).collect();
    let futs: Vec<_> = (0..n).map(|i| format_ident!("__select_fut_{}", i, span = Span::mixed_site())).collect();
    let indices: Vec<_> = (0..n).map(syn::Index::from).collect();
    let branch_nums: Vec<_> = (0..n as u32).collect();

    let init = branches.iter().map(|b| &b.fut);
    let conditions = branches
        .iter()
        .zip(&branch_nums)
        .filter_map(|(b, i)| b.cond.as_ref().map(|c| quote_spanned! {Span::mixed_site()=> if !(#c) { __select_disabled |= 1u64 << #i; } }));
    let polls = branches.iter().enumerate().map(|(i, b)| {
        let (fut, variant, num) = (&futs[i], &variants[i], branch_nums[i]);
        let check = clean_pattern(b.pat.clone());
        quote_spanned! {Span::mixed_site()=>
            #num => {
                let mask = 1u64 << #num;
                if __select_disabled & mask == mask {
                    continue;
                }
                let out = match ::core::future::Future::poll(#fut.as_mut(), cx) {
                    ::core::task::Poll::Ready(out) => out,
                    ::core::task::Poll::Pending => {
                        __select_pending = true;
                        continue;
                    }
                };
                // Done: never polled again, whether or not its pattern matches.
                __select_disabled |= mask;
                #[allow(unused_variables, unused_mut, unreachable_patterns, clippy::redundant_pattern_matching)]
                match &out {
                    #check => {}
                    _ => continue,
                }
                return ::core::task::Poll::Ready(__SelectOut::#variant(out));
            }
        }
    });
    let arms = branches.iter().enumerate().map(|(i, b)| {
        let (pat, handler, variant) = (&b.pat, &b.handler, &variants[i]);
        quote_spanned! {Span::mixed_site()=> __SelectOut::#variant(#pat) => #handler, }
    });
    let fallback = match fallback {
        Some(e) => quote! { #e },
        None => quote! { ::core::panic!("all branches are disabled and there is no else branch") },
    };
    let start = if biased {
        quote! { 0u32 }
    } else {
        quote_spanned! {Span::mixed_site()=> #krate::__private::thread_rng_n(#n32) }
    };
    // Mixed-site hygiene: the macro's own locals (`cx`, `out`, `mask`, …) cannot clash with the
    // user's names in the futures, patterns and handlers.
    quote_spanned! {Span::mixed_site()=> {
        #[allow(non_camel_case_types)]
        enum __SelectOut<#(#variants,)*> {
            #(#variants(#variants),)*
            Disabled,
        }
        #[allow(unused_mut)]
        let mut __select_disabled: u64 = 0;
        #(#conditions)*
        let __select_output = {
            // Created in one tuple first, so temporaries in the expressions live long enough.
            let __select_init = (#(#init,)*);
            #(
                let mut #futs = ::core::pin::pin!(::core::future::IntoFuture::into_future(__select_init.#indices));
            )*
            ::core::future::poll_fn(|cx| {
                // A task whose budget is spent yields here, before polling anything.
                ::core::task::ready!(#krate::__private::poll_budget_available(cx));
                let mut __select_pending = false;
                let start: u32 = #start;
                for i in 0..#n32 {
                    #[allow(clippy::modulo_one)]
                    let branch = (start + i) % #n32;
                    match branch {
                        #(#polls)*
                        _ => ::core::unreachable!("select! branch index out of range"),
                    }
                }
                if __select_pending {
                    ::core::task::Poll::Pending
                } else {
                    ::core::task::Poll::Ready(__SelectOut::Disabled)
                }
            })
            .await
        };
        #[allow(unreachable_patterns, unreachable_code)]
        match __select_output {
            #(#arms)*
            __SelectOut::Disabled => #fallback,
            _ => ::core::unreachable!("select! output did not match the branch's pattern"),
        }
    }}
}

/// The pattern with every binding made a plain by-reference one (no `mut`, no `ref`), so that
/// it can test `&output` without moving out of it.
fn clean_pattern(pat: Pat) -> Pat {
    match pat {
        Pat::Ident(mut p) => {
            p.by_ref = None;
            p.mutability = None;
            if let Some((at, sub)) = p.subpat.take() {
                p.subpat = Some((at, Box::new(clean_pattern(*sub))));
            }
            Pat::Ident(p)
        }
        Pat::Or(mut p) => {
            p.cases = p.cases.into_iter().map(clean_pattern).collect();
            Pat::Or(p)
        }
        Pat::Paren(mut p) => {
            *p.pat = clean_pattern(*p.pat);
            Pat::Paren(p)
        }
        Pat::Reference(mut p) => {
            p.mutability = None;
            *p.pat = clean_pattern(*p.pat);
            Pat::Reference(p)
        }
        Pat::Slice(mut p) => {
            p.elems = p.elems.into_iter().map(clean_pattern).collect();
            Pat::Slice(p)
        }
        Pat::Struct(mut p) => {
            for field in p.fields.iter_mut() {
                *field.pat = clean_pattern((*field.pat).clone());
            }
            Pat::Struct(p)
        }
        Pat::Tuple(mut p) => {
            p.elems = p.elems.into_iter().map(clean_pattern).collect();
            Pat::Tuple(p)
        }
        Pat::TupleStruct(mut p) => {
            p.elems = p.elems.into_iter().map(clean_pattern).collect();
            Pat::TupleStruct(p)
        }
        Pat::Type(mut p) => {
            *p.pat = clean_pattern(*p.pat);
            Pat::Type(p)
        }
        other => other,
    }
}
