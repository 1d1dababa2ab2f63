//! Sign-in providers: GitHub (OAuth 2, then its REST API for who the user is) and
//! OpenID Connect issuers (Google, any other). Both use the authorization code
//! flow with PKCE. `state` is checked by `identities` (bound to the browser and
//! to one stored flow); here the code is exchanged, and an ID token's signature
//! (the issuer's published keys), issuer, audience, expiry and nonce are checked
//! by `openidconnect` before anything in it is believed.

use crate::wire::auth::Provider;
use crate::AppError;
use openidconnect::core::{
    CoreAuthenticationFlow, CoreClient, CoreIdToken, CoreIdTokenClaims, CoreProviderMetadata,
    CoreUserInfoClaims,
};
use openidconnect::{
    reqwest, AuthUrl, AuthorizationCode, ClientId, ClientSecret, CsrfToken, IssuerUrl, Nonce,
    OAuth2TokenResponse, PkceCodeChallenge, PkceCodeVerifier, RedirectUrl, Scope, TokenResponse,
    TokenUrl,
};
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How long an issuer's discovery document (and its keys) is used before it is
/// fetched again.
const METADATA_TTL: Duration = Duration::from_secs(3600);
/// A provider that does not answer in this long fails the sign-in, clearly.
const PROVIDER_TIMEOUT: Duration = Duration::from_secs(15);

#[derive(Clone)]
pub enum Kind {
    GitHub {
        auth_url: String,
        token_url: String,
        api_url: String,
    },
    Oidc {
        issuer: String,
    },
}

/// One configured provider.
#[derive(Clone)]
pub struct ProviderConfig {
    pub id: String,
    pub name: String,
    pub kind: Kind,
    pub client_id: String,
    pub client_secret: String,
}

impl std::fmt::Debug for ProviderConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the secret.
        f.debug_struct("ProviderConfig")
            .field("id", &self.id)
            .field("client_id", &self.client_id)
            .finish_non_exhaustive()
    }
}

impl std::str::FromStr for ProviderConfig {
    type Err = String;

    /// An OpenID Connect provider: `id=NAME,issuer=URL,client_id=ID,client_secret=SECRET`,
    /// and optionally `name=LABEL` for its button.
    fn from_str(value: &str) -> Result<Self, String> {
        let mut fields: HashMap<&str, &str> = HashMap::new();
        for part in value.split(',') {
            let (k, v) = part
                .split_once('=')
                .ok_or_else(|| format!("{part:?}: expected KEY=VALUE"))?;
            fields.insert(k.trim(), v.trim());
        }
        let need = |k: &str| {
            fields
                .get(k)
                .filter(|v| !v.is_empty())
                .map(|v| v.to_string())
                .ok_or_else(|| format!("an OpenID Connect provider needs {k}="))
        };
        let id = need("id")?;
        if !id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
            || id == "github"
        {
            return Err(format!(
                "{id:?}: a provider's id has letters, digits, '-' and '_' (and is not github)"
            ));
        }
        let issuer = need("issuer")?;
        IssuerUrl::new(issuer.clone()).map_err(|e| format!("issuer {issuer:?}: {e}"))?;
        Ok(Self {
            name: fields
                .get("name")
                .map_or_else(|| id.clone(), |n| n.to_string()),
            id,
            kind: Kind::Oidc { issuer },
            client_id: need("client_id")?,
            client_secret: need("client_secret")?,
        })
    }
}

/// What a provider says about the person who signed in.
#[derive(Debug, Clone)]
pub struct Profile {
    pub provider: String,
    /// The provider's stable id of the account.
    pub subject: String,
    /// Only an address the provider says is verified.
    pub email: Option<String>,
    pub name: Option<String>,
    /// A username there (GitHub's login, `preferred_username`).
    pub login: Option<String>,
    pub avatar: Option<String>,
}

/// A sign-in to send the browser on: the provider's URL, and what the callback
/// needs to finish it.
pub struct Authorize {
    pub url: String,
    pub state: String,
    pub verifier: String,
    pub nonce: String,
}

/// The configured providers.
pub struct Providers {
    list: Vec<ProviderConfig>,
    /// The IDE's address as browsers reach it; else each request's own host.
    public_url: Option<String>,
    /// Follows no redirects (openidconnect's advice against SSRF).
    http: reqwest::Client,
    metadata: Mutex<HashMap<String, (Instant, CoreProviderMetadata)>>,
}

impl std::fmt::Debug for Providers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(&self.list).finish()
    }
}

impl Default for Providers {
    fn default() -> Self {
        Self::new(Vec::new(), None)
    }
}

fn unavailable(name: &str, e: impl std::fmt::Display) -> AppError {
    tracing::warn!(provider = name, "sign-in provider: {e}");
    AppError::new(
        crate::ErrorCode::Unavailable,
        format!("{name} could not be reached to finish signing in; try again"),
    )
}

fn refused(name: &str, e: impl std::fmt::Display) -> AppError {
    tracing::warn!(provider = name, "sign-in refused: {e}");
    AppError::unauthorized(format!(
        "{name} did not confirm who you are; the sign-in was refused"
    ))
}

impl Providers {
    pub fn new(list: Vec<ProviderConfig>, public_url: Option<String>) -> Self {
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(PROVIDER_TIMEOUT)
            .user_agent("webide")
            .build()
            .expect("an HTTP client");
        Self {
            list,
            public_url: public_url.map(|u| u.trim_end_matches('/').to_string()),
            http,
            metadata: Mutex::default(),
        }
    }

    /// What the sign-in page offers.
    pub fn offered(&self) -> Vec<Provider> {
        self.list
            .iter()
            .map(|p| Provider {
                id: p.id.clone(),
                name: p.name.clone(),
            })
            .collect()
    }

    pub fn get(&self, id: &str) -> Result<&ProviderConfig, AppError> {
        self.list
            .iter()
            .find(|p| p.id == id)
            .ok_or_else(|| AppError::not_found(format!("no sign-in provider {id:?} is configured")))
    }

    /// Where providers send the browser back to; `origin` is the request's own.
    pub fn redirect_uri(&self, origin: &str) -> String {
        let base = self.public_url.as_deref().unwrap_or(origin);
        format!("{base}/api/auth/oauth/callback")
    }

    async fn discovered(
        &self,
        p: &ProviderConfig,
        issuer: &str,
    ) -> Result<CoreProviderMetadata, AppError> {
        if let Some((at, m)) = self.metadata.lock().expect("lock").get(&p.id) {
            if at.elapsed() < METADATA_TTL {
                return Ok(m.clone());
            }
        }
        let url = IssuerUrl::new(issuer.to_string()).map_err(AppError::internal)?;
        let m = CoreProviderMetadata::discover_async(url, &self.http)
            .await
            .map_err(|e| unavailable(&p.name, e))?;
        self.metadata
            .lock()
            .expect("lock")
            .insert(p.id.clone(), (Instant::now(), m.clone()));
        Ok(m)
    }

    async fn oidc_client(
        &self,
        p: &ProviderConfig,
        issuer: &str,
        redirect: &str,
    ) -> Result<OidcClient, AppError> {
        let m = self.discovered(p, issuer).await?;
        Ok(CoreClient::from_provider_metadata(
            m,
            ClientId::new(p.client_id.clone()),
            Some(ClientSecret::new(p.client_secret.clone())),
        )
        .set_redirect_uri(RedirectUrl::new(redirect.to_string()).map_err(AppError::internal)?))
    }

    /// The provider's authorization URL for a new sign-in.
    pub async fn authorize(
        &self,
        p: &ProviderConfig,
        redirect: &str,
    ) -> Result<Authorize, AppError> {
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let (url, state, nonce) = match &p.kind {
            Kind::Oidc { issuer } => {
                let client = self.oidc_client(p, issuer, redirect).await?;
                let (url, state, nonce) = client
                    .authorize_url(
                        CoreAuthenticationFlow::AuthorizationCode,
                        CsrfToken::new_random,
                        Nonce::new_random,
                    )
                    .add_scope(Scope::new("email".into()))
                    .add_scope(Scope::new("profile".into()))
                    .set_pkce_challenge(challenge)
                    .url();
                (url, state, nonce)
            }
            Kind::GitHub { .. } => {
                let client = github_client(p, redirect)?;
                let (url, state) = client
                    .authorize_url(CsrfToken::new_random)
                    .add_scope(Scope::new("read:user".into()))
                    .add_scope(Scope::new("user:email".into()))
                    .set_pkce_challenge(challenge)
                    .url();
                // GitHub has no ID token; the nonce is stored all the same, unused.
                (url, state, Nonce::new_random())
            }
        };
        Ok(Authorize {
            url: url.to_string(),
            state: state.secret().clone(),
            verifier: verifier.secret().clone(),
            nonce: nonce.secret().clone(),
        })
    }

    /// Exchanges the code the browser brought back and says who signed in.
    /// `iss`, where the provider sent one back (RFC 9207), must be its issuer.
    pub async fn finish(
        &self,
        p: &ProviderConfig,
        redirect: &str,
        code: String,
        verifier: String,
        nonce: String,
        iss: Option<&str>,
    ) -> Result<Profile, AppError> {
        match &p.kind {
            Kind::Oidc { issuer } => {
                if iss.is_some_and(|i| i.trim_end_matches('/') != issuer.trim_end_matches('/')) {
                    return Err(refused(&p.name, "the callback came from another issuer"));
                }
                let client = self.oidc_client(p, issuer, redirect).await?;
                let tokens = client
                    .exchange_code(AuthorizationCode::new(code))
                    .map_err(AppError::internal)?
                    .set_pkce_verifier(PkceCodeVerifier::new(verifier))
                    .request_async(&self.http)
                    .await
                    .map_err(|e| refused(&p.name, e))?;
                let id_token = tokens
                    .id_token()
                    .ok_or_else(|| refused(&p.name, "no ID token"))?;
                let claims = verified(&client, p, id_token, &nonce)?;
                let subject = claims.subject().clone();
                let mut profile = Profile {
                    provider: p.id.clone(),
                    subject: subject.to_string(),
                    email: claims
                        .email()
                        .filter(|_| claims.email_verified() == Some(true))
                        .map(|e| e.to_string()),
                    name: claims
                        .name()
                        .and_then(|n| n.get(None))
                        .map(|n| n.to_string()),
                    login: claims.preferred_username().map(|u| u.to_string()),
                    avatar: claims
                        .picture()
                        .and_then(|n| n.get(None))
                        .map(|u| u.to_string()),
                };
                // Many issuers keep the profile out of the ID token: ask for it.
                if let Ok(request) = client.user_info(tokens.access_token().clone(), Some(subject))
                {
                    let info: Result<CoreUserInfoClaims, _> =
                        request.request_async(&self.http).await;
                    match info {
                        Ok(info) => {
                            if profile.email.is_none() && info.email_verified() == Some(true) {
                                profile.email = info.email().map(|e| e.to_string());
                            }
                            profile.name = profile.name.or_else(|| {
                                info.name().and_then(|n| n.get(None)).map(|n| n.to_string())
                            });
                            profile.login = profile
                                .login
                                .or_else(|| info.preferred_username().map(|u| u.to_string()));
                            profile.avatar = profile.avatar.or_else(|| {
                                info.picture()
                                    .and_then(|n| n.get(None))
                                    .map(|u| u.to_string())
                            });
                        }
                        Err(e) => tracing::info!(provider = %p.id, "no user info: {e}"),
                    }
                }
                Ok(profile)
            }
            Kind::GitHub { api_url, .. } => {
                let client = github_client(p, redirect)?;
                let tokens = client
                    .exchange_code(AuthorizationCode::new(code))
                    .set_pkce_verifier(PkceCodeVerifier::new(verifier))
                    .request_async(&self.http)
                    .await
                    .map_err(|e| refused(&p.name, e))?;
                let token = tokens.access_token().secret();
                let user: GitHubUser = self.github_get(p, api_url, "/user", token).await?;
                let emails: Vec<GitHubEmail> =
                    self.github_get(p, api_url, "/user/emails", token).await?;
                let email = emails
                    .iter()
                    .find(|e| e.primary && e.verified)
                    .or_else(|| emails.iter().find(|e| e.verified))
                    .map(|e| e.email.clone());
                Ok(Profile {
                    provider: p.id.clone(),
                    subject: user.id.to_string(),
                    email,
                    name: user.name,
                    login: Some(user.login),
                    avatar: user.avatar_url,
                })
            }
        }
    }

    /// Checks an ID token from `p` as a sign-in does (signature, issuer, audience
    /// this server, expiry, `nonce`): the subject it names.
    pub async fn check_id_token(
        &self,
        p: &ProviderConfig,
        token: &str,
        nonce: &str,
    ) -> Result<String, AppError> {
        let Kind::Oidc { issuer } = &p.kind else {
            return Err(AppError::invalid("not an OpenID Connect provider"));
        };
        let client = self
            .oidc_client(p, issuer, &self.redirect_uri("http://localhost"))
            .await?;
        let token: CoreIdToken = token.parse().map_err(|e| refused(&p.name, e))?;
        Ok(verified(&client, p, &token, nonce)?.subject().to_string())
    }

    async fn github_get<T: serde::de::DeserializeOwned>(
        &self,
        p: &ProviderConfig,
        api_url: &str,
        path: &str,
        token: &str,
    ) -> Result<T, AppError> {
        let url = format!("{}{path}", api_url.trim_end_matches('/'));
        let reply = self
            .http
            .get(&url)
            .bearer_auth(token)
            .header("Accept", "application/vnd.github+json")
            .send()
            .await
            .map_err(|e| unavailable(&p.name, e))?;
        if !reply.status().is_success() {
            return Err(refused(&p.name, format!("{path}: {}", reply.status())));
        }
        let body = reply.bytes().await.map_err(|e| unavailable(&p.name, e))?;
        serde_json::from_slice(&body).map_err(|e| refused(&p.name, format!("{path}: {e}")))
    }
}

/// A client of an issuer, as discovery gives it.
type OidcClient = CoreClient<
    openidconnect::EndpointSet,
    openidconnect::EndpointNotSet,
    openidconnect::EndpointNotSet,
    openidconnect::EndpointNotSet,
    openidconnect::EndpointMaybeSet,
    openidconnect::EndpointMaybeSet,
>;

/// An ID token's claims, once its signature, issuer, audience, expiry and nonce
/// have passed.
fn verified<'t>(
    client: &OidcClient,
    p: &ProviderConfig,
    token: &'t CoreIdToken,
    nonce: &str,
) -> Result<&'t CoreIdTokenClaims, AppError> {
    token
        .claims(&client.id_token_verifier(), &Nonce::new(nonce.to_string()))
        .map_err(|e| refused(&p.name, e))
}

#[derive(serde::Deserialize)]
struct GitHubUser {
    id: i64,
    login: String,
    name: Option<String>,
    avatar_url: Option<String>,
}

#[derive(serde::Deserialize)]
struct GitHubEmail {
    email: String,
    primary: bool,
    verified: bool,
}

/// GitHub is plain OAuth 2: a client with its two endpoints and no ID token.
fn github_client(
    p: &ProviderConfig,
    redirect: &str,
) -> Result<
    oauth2::basic::BasicClient<
        oauth2::EndpointSet,
        oauth2::EndpointNotSet,
        oauth2::EndpointNotSet,
        oauth2::EndpointNotSet,
        oauth2::EndpointSet,
    >,
    AppError,
> {
    let Kind::GitHub {
        auth_url,
        token_url,
        ..
    } = &p.kind
    else {
        return Err(AppError::internal("not GitHub"));
    };
    Ok(
        oauth2::basic::BasicClient::new(ClientId::new(p.client_id.clone()))
            .set_client_secret(ClientSecret::new(p.client_secret.clone()))
            .set_auth_uri(AuthUrl::new(auth_url.clone()).map_err(AppError::internal)?)
            .set_token_uri(TokenUrl::new(token_url.clone()).map_err(AppError::internal)?)
            .set_redirect_uri(RedirectUrl::new(redirect.to_string()).map_err(AppError::internal)?),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_oidc_provider_from_its_flag() {
        let p: ProviderConfig =
            "id=corp,name=Corp SSO,issuer=https://sso.example.com,client_id=a,client_secret=b"
                .parse()
                .unwrap();
        assert_eq!((p.id.as_str(), p.name.as_str()), ("corp", "Corp SSO"));
        assert!(format!("{p:?}").contains("corp") && !format!("{p:?}").contains("\"b\""));
        for bad in [
            "issuer=https://x.example,client_id=a,client_secret=b",
            "id=corp,issuer=not a url,client_id=a,client_secret=b",
            "id=github,issuer=https://x.example,client_id=a,client_secret=b",
            "id=corp,issuer=https://x.example,client_id=a",
            "id=corp issuer",
        ] {
            assert!(bad.parse::<ProviderConfig>().is_err(), "{bad}");
        }
    }
}
