//! Technology detection: krawlr's own rule set (CMSs, frameworks, analytics, tag managers,
//! CDNs, payments, chat widgets, hosting, …), matched against what a page shows of itself —
//! script and asset URLs, the generator tag, response headers, cookie names and the HTML.
//! Every rule is a plain substring, lower-case; a technology is reported with the evidence
//! that matched first.

use crate::scrape::model::report::Technology;
use aho_corasick::AhoCorasick;
use reqwest::header::HeaderMap;
use std::sync::LazyLock;

/// Where a rule looks.
#[derive(Clone, Copy)]
enum On {
    /// `<script src>`, `<link href>`, `<img src>`, `<iframe src>` URLs.
    Asset,
    /// The whole HTML.
    Html,
    /// `<meta name="generator">`.
    Generator,
    /// A response header's name (`name`), or `name: value-part`.
    Header,
    /// A cookie's name prefix.
    Cookie,
}

use On::*;

/// Where to look and what to find there.
type Rule = (On, &'static str);

/// (name, category, rules), grouped by category.
const RULES: &[(&str, &str, &[Rule])] = &[
    // Content management and site builders
    (
        "WordPress",
        "CMS",
        &[(Asset, "/wp-content/"), (Asset, "/wp-includes/"), (Generator, "wordpress"), (Header, "link: api.w.org")],
    ),
    (
        "Drupal",
        "CMS",
        &[
            (Generator, "drupal"),
            (Header, "x-drupal-cache"),
            (Header, "x-generator: drupal"),
            (Asset, "/sites/default/files/"),
        ],
    ),
    ("Joomla", "CMS", &[(Generator, "joomla"), (Asset, "/media/jui/")]),
    ("Ghost", "CMS", &[(Generator, "ghost"), (Asset, "/ghost/")]),
    ("Contentful", "CMS", &[(Asset, "images.ctfassets.net"), (Asset, "cdn.contentful.com")]),
    ("Sanity", "CMS", &[(Asset, "cdn.sanity.io")]),
    ("Strapi", "CMS", &[(Header, "x-powered-by: strapi")]),
    ("Prismic", "CMS", &[(Asset, "images.prismic.io"), (Asset, "prismic.io")]),
    ("Storyblok", "CMS", &[(Asset, "a.storyblok.com")]),
    ("HubSpot CMS", "CMS", &[(Header, "x-hs-hub-id"), (Generator, "hubspot")]),
    ("Adobe Experience Manager", "CMS", &[(Asset, "/etc.clientlibs/"), (Asset, "/content/dam/")]),
    ("Sitecore", "CMS", &[(Cookie, "sc_analytics_global_cookie"), (Asset, "/-/media/")]),
    (
        "Webflow",
        "Site builder",
        &[
            (Generator, "webflow"),
            (Asset, "assets.website-files.com"),
            (Asset, "cdn.prod.website-files.com"),
            (Html, "data-wf-page"),
        ],
    ),
    ("Wix", "Site builder", &[(Generator, "wix.com"), (Asset, "static.wixstatic.com"), (Header, "x-wix-request-id")]),
    (
        "Squarespace",
        "Site builder",
        &[(Generator, "squarespace"), (Asset, "static1.squarespace.com"), (Asset, "squarespace-cdn.com")],
    ),
    ("Framer", "Site builder", &[(Generator, "framer"), (Asset, "framerusercontent.com")]),
    ("Weebly", "Site builder", &[(Asset, "editmysite.com"), (Generator, "weebly")]),
    ("Duda", "Site builder", &[(Asset, "irp.cdn-website.com")]),
    ("Hugo", "Static site generator", &[(Generator, "hugo")]),
    ("Jekyll", "Static site generator", &[(Generator, "jekyll")]),
    ("Gatsby", "Static site generator", &[(Generator, "gatsby"), (Html, "id=\"___gatsby\"")]),
    ("Docusaurus", "Static site generator", &[(Generator, "docusaurus")]),
    ("Hexo", "Static site generator", &[(Generator, "hexo")]),
    ("Medium", "Blog", &[(Asset, "cdn-client.medium.com"), (Asset, "miro.medium.com")]),
    ("Substack", "Blog", &[(Asset, "substackcdn.com")]),
    // E-commerce
    (
        "Shopify",
        "E-commerce",
        &[(Asset, "cdn.shopify.com"), (Header, "x-shopid"), (Header, "x-shopify-stage"), (Html, "shopify.theme")],
    ),
    ("WooCommerce", "E-commerce", &[(Asset, "/plugins/woocommerce/"), (Html, "woocommerce-")]),
    ("Magento", "E-commerce", &[(Asset, "/static/version"), (Cookie, "mage-cache"), (Html, "mage/cookies")]),
    ("BigCommerce", "E-commerce", &[(Asset, "cdn11.bigcommerce.com"), (Asset, "bigcommerce.com/s-")]),
    ("PrestaShop", "E-commerce", &[(Generator, "prestashop"), (Cookie, "prestashop-")]),
    ("Salesforce Commerce Cloud", "E-commerce", &[(Asset, "/on/demandware.static/"), (Cookie, "dwsid")]),
    ("Ecwid", "E-commerce", &[(Asset, "app.ecwid.com")]),
    ("Gumroad", "E-commerce", &[(Asset, "gumroad.com/js")]),
    // JavaScript frameworks and libraries
    (
        "Next.js",
        "JavaScript framework",
        &[(Asset, "/_next/static/"), (Header, "x-powered-by: next.js"), (Html, "id=\"__next\"")],
    ),
    ("Nuxt", "JavaScript framework", &[(Asset, "/_nuxt/"), (Html, "id=\"__nuxt\""), (Html, "window.__nuxt__")]),
    ("React", "JavaScript framework", &[(Html, "data-reactroot"), (Asset, "react-dom"), (Html, "react-root")]),
    (
        "Vue.js",
        "JavaScript framework",
        &[(Html, "data-v-app"), (Asset, "vue.min.js"), (Asset, "vue.global"), (Html, "data-server-rendered")],
    ),
    ("Angular", "JavaScript framework", &[(Html, "ng-version="), (Html, "ng-app")]),
    ("Svelte", "JavaScript framework", &[(Html, "svelte-"), (Asset, "/_app/immutable/")]),
    ("SvelteKit", "JavaScript framework", &[(Asset, "/_app/immutable/"), (Html, "data-sveltekit")]),
    ("Remix", "JavaScript framework", &[(Html, "__remixcontext"), (Html, "window.__remixmanifest")]),
    ("Astro", "JavaScript framework", &[(Generator, "astro"), (Html, "astro-island")]),
    ("Ember.js", "JavaScript framework", &[(Html, "ember-application"), (Asset, "ember.")]),
    ("Alpine.js", "JavaScript library", &[(Html, "x-data="), (Asset, "alpinejs")]),
    ("htmx", "JavaScript library", &[(Html, "hx-get="), (Html, "hx-post="), (Asset, "htmx.org")]),
    ("jQuery", "JavaScript library", &[(Asset, "jquery"), (Html, "jquery.min.js")]),
    ("Lodash", "JavaScript library", &[(Asset, "lodash")]),
    ("GSAP", "JavaScript library", &[(Asset, "gsap"), (Asset, "greensock")]),
    ("Three.js", "JavaScript library", &[(Asset, "three.min.js"), (Asset, "three.module")]),
    ("Lottie", "JavaScript library", &[(Asset, "lottie"), (Html, "lottie-player")]),
    ("Swiper", "JavaScript library", &[(Asset, "swiper"), (Html, "swiper-wrapper")]),
    ("core-js", "JavaScript library", &[(Asset, "core-js")]),
    ("Polyfill.io", "JavaScript library", &[(Asset, "polyfill.io")]),
    // UI frameworks and fonts
    ("Bootstrap", "UI framework", &[(Asset, "bootstrap.min.css"), (Asset, "bootstrap.min.js"), (Asset, "/bootstrap/")]),
    ("Tailwind CSS", "UI framework", &[(Asset, "tailwind")]),
    ("Font Awesome", "Font", &[(Asset, "font-awesome"), (Asset, "fontawesome"), (Asset, "kit.fontawesome.com")]),
    ("Google Fonts", "Font", &[(Asset, "fonts.googleapis.com"), (Asset, "fonts.gstatic.com")]),
    ("Adobe Fonts", "Font", &[(Asset, "use.typekit.net"), (Asset, "p.typekit.net")]),
    // Analytics
    (
        "Google Analytics",
        "Analytics",
        &[
            (Asset, "google-analytics.com/analytics.js"),
            (Asset, "googletagmanager.com/gtag/js"),
            (Html, "ga('create'"),
            (Cookie, "_ga"),
        ],
    ),
    (
        "Google Tag Manager",
        "Tag manager",
        &[(Asset, "googletagmanager.com/gtm.js"), (Html, "googletagmanager.com/ns.html")],
    ),
    ("Adobe Analytics", "Analytics", &[(Asset, "omniture"), (Asset, "/b/ss/"), (Asset, "s_code.js"), (Cookie, "s_cc")]),
    ("Adobe Launch", "Tag manager", &[(Asset, "assets.adobedtm.com")]),
    ("Tealium", "Tag manager", &[(Asset, "tags.tiqcdn.com")]),
    ("Segment", "Analytics", &[(Asset, "cdn.segment.com"), (Asset, "segment.io/analytics.js")]),
    ("Mixpanel", "Analytics", &[(Asset, "cdn.mxpnl.com"), (Html, "mixpanel.init"), (Asset, "mixpanel")]),
    ("Amplitude", "Analytics", &[(Asset, "cdn.amplitude.com"), (Html, "amplitude.getinstance")]),
    ("Heap", "Analytics", &[(Asset, "cdn.heapanalytics.com"), (Html, "heap.load(")]),
    ("Hotjar", "Analytics", &[(Asset, "static.hotjar.com"), (Html, "hotjar"), (Cookie, "_hj")]),
    ("FullStory", "Analytics", &[(Asset, "fullstory.com/s/fs.js"), (Html, "_fs_org")]),
    ("Microsoft Clarity", "Analytics", &[(Asset, "clarity.ms/tag"), (Cookie, "_clck")]),
    ("Plausible", "Analytics", &[(Asset, "plausible.io/js")]),
    ("Fathom", "Analytics", &[(Asset, "cdn.usefathom.com")]),
    ("Matomo", "Analytics", &[(Asset, "matomo.js"), (Asset, "piwik.js"), (Cookie, "_pk_id")]),
    ("PostHog", "Analytics", &[(Asset, "posthog"), (Html, "posthog.init")]),
    ("Pendo", "Analytics", &[(Asset, "cdn.pendo.io")]),
    ("Crazy Egg", "Analytics", &[(Asset, "script.crazyegg.com")]),
    ("Cloudflare Web Analytics", "Analytics", &[(Asset, "static.cloudflareinsights.com/beacon")]),
    ("Vercel Analytics", "Analytics", &[(Asset, "/_vercel/insights/")]),
    ("New Relic", "Monitoring", &[(Asset, "js-agent.newrelic.com"), (Html, "nreum")]),
    ("Datadog RUM", "Monitoring", &[(Asset, "datadoghq-browser-agent.com"), (Html, "dd_rum")]),
    ("Sentry", "Monitoring", &[(Asset, "browser.sentry-cdn.com"), (Asset, "sentry"), (Html, "sentry.init")]),
    // Advertising and marketing
    ("Google Ads", "Advertising", &[(Asset, "googleadservices.com"), (Asset, "googlesyndication.com")]),
    ("Meta Pixel", "Advertising", &[(Asset, "connect.facebook.net"), (Html, "fbq('init'"), (Html, "fbq(\"init\"")]),
    ("LinkedIn Insight Tag", "Advertising", &[(Asset, "snap.licdn.com"), (Html, "_linkedin_partner_id")]),
    ("X Pixel", "Advertising", &[(Asset, "static.ads-twitter.com")]),
    ("TikTok Pixel", "Advertising", &[(Asset, "analytics.tiktok.com")]),
    ("Microsoft Advertising", "Advertising", &[(Asset, "bat.bing.com")]),
    ("Reddit Pixel", "Advertising", &[(Asset, "redditstatic.com/ads")]),
    ("Criteo", "Advertising", &[(Asset, "static.criteo.net")]),
    (
        "HubSpot",
        "Marketing automation",
        &[(Asset, "js.hs-scripts.com"), (Asset, "js.hsforms.net"), (Asset, "hs-analytics.net"), (Cookie, "hubspotutk")],
    ),
    ("Marketo", "Marketing automation", &[(Asset, "munchkin.marketo.net"), (Asset, "marketo.com/js")]),
    ("Pardot", "Marketing automation", &[(Asset, "pi.pardot.com"), (Html, "piaid")]),
    ("Mailchimp", "Marketing automation", &[(Asset, "chimpstatic.com"), (Asset, "list-manage.com")]),
    ("Klaviyo", "Marketing automation", &[(Asset, "static.klaviyo.com")]),
    ("ActiveCampaign", "Marketing automation", &[(Asset, "trackcmp.net")]),
    ("Optimizely", "A/B testing", &[(Asset, "cdn.optimizely.com")]),
    ("VWO", "A/B testing", &[(Asset, "dev.visualwebsiteoptimizer.com"), (Html, "_vwo_code")]),
    ("LaunchDarkly", "Feature flags", &[(Asset, "launchdarkly")]),
    // Consent
    ("OneTrust", "Consent management", &[(Asset, "cdn.cookielaw.org"), (Asset, "optanon"), (Cookie, "optanonconsent")]),
    ("Cookiebot", "Consent management", &[(Asset, "consent.cookiebot.com")]),
    ("Osano", "Consent management", &[(Asset, "cmp.osano.com")]),
    ("TrustArc", "Consent management", &[(Asset, "consent.trustarc.com")]),
    ("Didomi", "Consent management", &[(Asset, "sdk.privacy-center.org")]),
    ("Usercentrics", "Consent management", &[(Asset, "app.usercentrics.eu")]),
    ("Termly", "Consent management", &[(Asset, "app.termly.io")]),
    // Chat and support
    (
        "Intercom",
        "Live chat",
        &[(Asset, "widget.intercom.io"), (Asset, "js.intercomcdn.com"), (Html, "intercomsettings")],
    ),
    ("Drift", "Live chat", &[(Asset, "js.driftt.com"), (Html, "drift.load")]),
    ("Zendesk", "Live chat", &[(Asset, "static.zdassets.com"), (Asset, "zopim")]),
    ("Crisp", "Live chat", &[(Asset, "client.crisp.chat")]),
    ("Tawk.to", "Live chat", &[(Asset, "embed.tawk.to")]),
    ("LiveChat", "Live chat", &[(Asset, "cdn.livechatinc.com")]),
    ("Freshchat", "Live chat", &[(Asset, "wchat.freshchat.com")]),
    ("Olark", "Live chat", &[(Asset, "static.olark.com")]),
    ("Tidio", "Live chat", &[(Asset, "code.tidio.co")]),
    ("Qualified", "Live chat", &[(Asset, "js.qualified.com")]),
    // Payments
    ("Stripe", "Payments", &[(Asset, "js.stripe.com")]),
    ("PayPal", "Payments", &[(Asset, "paypal.com/sdk/js"), (Asset, "paypalobjects.com")]),
    ("Braintree", "Payments", &[(Asset, "js.braintreegateway.com")]),
    ("Adyen", "Payments", &[(Asset, "checkoutshopper-live.adyen.com"), (Asset, "adyen")]),
    ("Klarna", "Payments", &[(Asset, "klarna")]),
    ("Afterpay", "Payments", &[(Asset, "afterpay")]),
    ("Square", "Payments", &[(Asset, "squareup.com"), (Asset, "squarecdn.com")]),
    ("Paddle", "Payments", &[(Asset, "cdn.paddle.com")]),
    ("Chargebee", "Payments", &[(Asset, "js.chargebee.com")]),
    ("Recurly", "Payments", &[(Asset, "js.recurly.com")]),
    ("Apple Pay", "Payments", &[(Html, "apple-pay-button"), (Html, "applepaysession")]),
    // CDNs, hosting, servers and infrastructure
    (
        "Cloudflare",
        "CDN",
        &[(Header, "cf-ray"), (Header, "server: cloudflare"), (Asset, "cdnjs.cloudflare.com"), (Cookie, "__cf_bm")],
    ),
    ("Fastly", "CDN", &[(Header, "x-served-by: cache-"), (Header, "fastly"), (Header, "x-fastly-request-id")]),
    (
        "Akamai",
        "CDN",
        &[(Header, "x-akamai-transformed"), (Header, "akamai"), (Asset, "akamaihd.net"), (Asset, "akamaized.net")],
    ),
    ("Amazon CloudFront", "CDN", &[(Header, "x-amz-cf-id"), (Header, "via: cloudfront"), (Asset, "cloudfront.net")]),
    ("jsDelivr", "CDN", &[(Asset, "cdn.jsdelivr.net")]),
    ("unpkg", "CDN", &[(Asset, "unpkg.com")]),
    ("Bunny CDN", "CDN", &[(Header, "server: bunnycdn"), (Asset, "b-cdn.net")]),
    ("imgix", "Image CDN", &[(Asset, "imgix.net")]),
    ("Cloudinary", "Image CDN", &[(Asset, "res.cloudinary.com")]),
    ("Vercel", "Hosting", &[(Header, "x-vercel-id"), (Header, "server: vercel")]),
    ("Netlify", "Hosting", &[(Header, "x-nf-request-id"), (Header, "server: netlify")]),
    ("GitHub Pages", "Hosting", &[(Header, "server: github.com"), (Header, "x-github-request-id")]),
    ("Heroku", "Hosting", &[(Header, "via: 1.1 vegur"), (Header, "heroku")]),
    ("Fly.io", "Hosting", &[(Header, "fly-request-id"), (Header, "server: fly/")]),
    ("Render", "Hosting", &[(Header, "rndr-id"), (Header, "x-render-origin-server")]),
    ("Amazon S3", "Hosting", &[(Header, "server: amazons3"), (Header, "x-amz-request-id")]),
    ("Amazon Web Services", "Hosting", &[(Header, "x-amz-"), (Asset, "amazonaws.com"), (Cookie, "awsalb")]),
    ("Google Cloud", "Hosting", &[(Header, "via: 1.1 google"), (Header, "x-goog-"), (Asset, "storage.googleapis.com")]),
    (
        "Microsoft Azure",
        "Hosting",
        &[(Header, "x-azure-ref"), (Header, "x-ms-request-id"), (Asset, "azureedge.net"), (Cookie, "arraffinity")],
    ),
    ("WP Engine", "Hosting", &[(Header, "x-powered-by: wp engine"), (Header, "wpe-backend")]),
    ("Kinsta", "Hosting", &[(Header, "x-kinsta-cache")]),
    ("Pantheon", "Hosting", &[(Header, "x-pantheon-styx-hostname")]),
    ("Nginx", "Web server", &[(Header, "server: nginx")]),
    ("Apache HTTP Server", "Web server", &[(Header, "server: apache")]),
    ("Microsoft IIS", "Web server", &[(Header, "server: microsoft-iis")]),
    ("LiteSpeed", "Web server", &[(Header, "server: litespeed")]),
    ("Caddy", "Web server", &[(Header, "server: caddy")]),
    ("Envoy", "Web server", &[(Header, "server: envoy"), (Header, "x-envoy-")]),
    ("Varnish", "Cache", &[(Header, "x-varnish"), (Header, "via: varnish")]),
    // Languages and back-end frameworks
    ("PHP", "Programming language", &[(Header, "x-powered-by: php"), (Cookie, "phpsessid")]),
    (
        "ASP.NET",
        "Web framework",
        &[
            (Header, "x-aspnet-version"),
            (Header, "x-powered-by: asp.net"),
            (Cookie, "asp.net_sessionid"),
            (Html, "__viewstate"),
        ],
    ),
    ("Express", "Web framework", &[(Header, "x-powered-by: express")]),
    ("Ruby on Rails", "Web framework", &[(Html, "csrf-param\" content=\"authenticity_token"), (Cookie, "_rails")]),
    ("Django", "Web framework", &[(Cookie, "csrftoken"), (Html, "csrfmiddlewaretoken")]),
    ("Laravel", "Web framework", &[(Cookie, "laravel_session"), (Cookie, "xsrf-token")]),
    ("Java", "Programming language", &[(Cookie, "jsessionid")]),
    // Search, video, maps, forms, reviews, scheduling, misc widgets
    ("Algolia", "Search", &[(Asset, "algolia"), (Html, "algoliasearch")]),
    ("YouTube", "Video", &[(Asset, "youtube.com/embed"), (Asset, "youtube-nocookie.com")]),
    ("Vimeo", "Video", &[(Asset, "player.vimeo.com")]),
    ("Wistia", "Video", &[(Asset, "fast.wistia.com"), (Asset, "wistia.net")]),
    ("Google Maps", "Maps", &[(Asset, "maps.googleapis.com"), (Asset, "google.com/maps/embed")]),
    ("Mapbox", "Maps", &[(Asset, "api.mapbox.com")]),
    ("Typeform", "Forms", &[(Asset, "embed.typeform.com")]),
    ("Calendly", "Scheduling", &[(Asset, "assets.calendly.com"), (Asset, "calendly.com/")]),
    ("Trustpilot", "Reviews", &[(Asset, "widget.trustpilot.com")]),
    ("Google reCAPTCHA", "Security", &[(Asset, "google.com/recaptcha"), (Asset, "recaptcha/api.js")]),
    ("hCaptcha", "Security", &[(Asset, "hcaptcha.com")]),
    ("Cloudflare Turnstile", "Security", &[(Asset, "challenges.cloudflare.com/turnstile")]),
    ("Greenhouse", "Recruiting", &[(Asset, "boards.greenhouse.io"), (Asset, "job-boards.greenhouse.io")]),
    ("Lever", "Recruiting", &[(Asset, "jobs.lever.co")]),
    ("Workday", "Recruiting", &[(Asset, "myworkdayjobs.com")]),
    ("Ashby", "Recruiting", &[(Asset, "jobs.ashbyhq.com")]),
    ("Statuspage", "Status page", &[(Asset, "statuspage.io")]),
    ("Auth0", "Authentication", &[(Asset, "cdn.auth0.com")]),
    (
        "Firebase",
        "Backend as a service",
        &[(Asset, "firebaseapp.com"), (Asset, "firebase"), (Asset, "gstatic.com/firebasejs")],
    ),
    ("Supabase", "Backend as a service", &[(Asset, "supabase.co")]),
];

/// The `Asset` and `Html` needles of every rule, each kind in one automaton, so that a page's
/// HTML and each asset URL are read once rather than once per needle (this was a fifth of a
/// crawl's instructions).
struct Automata {
    html: AhoCorasick,
    assets: AhoCorasick,
    /// For each rule, for each of its needles: its pattern in the automaton of its kind.
    patterns: Vec<Vec<usize>>,
}

static AUTOMATA: LazyLock<Automata> = LazyLock::new(|| {
    let (mut html, mut assets) = (Vec::new(), Vec::new());
    let id = |list: &mut Vec<&'static str>, needle| match list.iter().position(|n| *n == needle) {
        Some(i) => i,
        None => {
            list.push(needle);
            list.len() - 1
        }
    };
    let patterns = RULES
        .iter()
        .map(|(_, _, rules)| {
            rules
                .iter()
                .map(|(on, needle)| match on {
                    Html => id(&mut html, needle),
                    Asset => id(&mut assets, needle),
                    // Matched directly (a few short strings each): no pattern.
                    Generator | Header | Cookie => usize::MAX,
                })
                .collect()
        })
        .collect();
    let build =
        |needles: &[&str]| AhoCorasick::builder().ascii_case_insensitive(true).build(needles).expect("static needles");
    Automata { html: build(&html), assets: build(&assets), patterns }
});

/// What one page shows of itself, lower-cased.
struct Signals<'a> {
    /// Per `Asset` pattern, the first asset URL that contains it.
    assets: Vec<Option<&'a str>>,
    /// Per `Html` pattern, whether the HTML contains it.
    html: Vec<bool>,
    generators: &'a [String],
    headers: Vec<String>,
    cookies: Vec<String>,
}

fn signals<'a>(html: &str, headers: &HeaderMap, assets: &'a [String], generators: &'a [String]) -> Signals<'a> {
    let automata = &*AUTOMATA;
    let mut found = vec![None; automata.assets.patterns_len()];
    for asset in assets {
        for m in automata.assets.find_overlapping_iter(asset.as_str()) {
            found[m.pattern().as_usize()].get_or_insert(asset.as_str());
        }
    }
    let mut html_found = vec![false; automata.html.patterns_len()];
    for m in automata.html.find_overlapping_iter(html) {
        html_found[m.pattern().as_usize()] = true;
    }
    let header_lines = headers
        .iter()
        .map(|(name, value)| format!("{}: {}", name.as_str(), value.to_str().unwrap_or_default().to_ascii_lowercase()))
        .collect();
    let cookies = headers
        .get_all(reqwest::header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok()?.split('=').next().map(|n| n.trim().to_ascii_lowercase()))
        .collect();
    Signals { assets: found, html: html_found, generators, headers: header_lines, cookies }
}

/// The evidence for `needle` (pattern `pattern` of its kind's automaton) on a page, if any.
fn matches(s: &Signals, on: On, needle: &str, pattern: usize) -> Option<String> {
    let found = match on {
        Asset => s.assets[pattern].map(|a| format!("asset: {a}")),
        Generator => s.generators.iter().find(|g| g.contains(needle)).map(|g| format!("generator: {g}")),
        Header => s.headers.iter().find(|h| h.contains(needle)).map(|h| format!("header: {h}")),
        Cookie => s.cookies.iter().find(|c| c.starts_with(needle)).map(|c| format!("cookie: {c}")),
        Html => s.html[pattern].then(|| format!("html: {needle}")),
    };
    found.map(|f| f.chars().take(160).collect())
}

/// Every technology one page shows (its HTML, response headers, asset URLs and generator
/// tags), with its evidence.
pub fn detect_page(html: &str, headers: &HeaderMap, assets: &[String], generators: &[String]) -> Vec<Technology> {
    let s = signals(html, headers, assets, generators);
    RULES
        .iter()
        .zip(&AUTOMATA.patterns)
        .filter_map(|((name, category, rules), patterns)| {
            let evidence = rules.iter().zip(patterns).find_map(|((on, needle), p)| matches(&s, *on, needle, *p))?;
            Some(Technology { name: name.to_string(), category: category.to_string(), evidence })
        })
        .collect()
}

/// How many technologies the rule set knows.
pub fn known() -> usize {
    RULES.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_rule_set_is_broad_and_unique() {
        assert!(known() >= 150, "{} technologies", known());
        let mut names: Vec<&str> = RULES.iter().map(|r| r.0).collect();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), known(), "no technology twice");
        for (name, _, rules) in RULES {
            assert!(rules.iter().all(|(_, n)| *n == n.to_ascii_lowercase()), "{name}: rules are lower-case");
        }
    }
}
