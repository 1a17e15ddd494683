"""ReviewerSignIn: reviewers sign in through a Cognito user pool; API Gateway verifies their JWT.

The user pool (no self sign-up: an administrator creates each reviewer), its hosted UI, the
console's app client (authorization code grant with PKCE, no client secret: it runs in a browser)
and the ``reviewers`` group. The HTTP API's JWT authorizer guards exactly the routes the API
function treats as reviewer-only (``tray_agent.domain.auth.required_access``: reviews, dead
letters, acting on work, re-running a PO), plus ``/signed-in/…``: the signed-in console calls every
route under that prefix (stripped by the resolver), so a reviewer's reads are verified too. The
function then names the reviewer from the verified claims (``TRAY_AGENT_REVIEWER_AUTH=jwt``).
Everything else stays on the ``$default`` route:
machine senders sign with HMAC (API Gateway cannot check an HMAC, the function does), reads
accept a signature, and the console's static files are open (they hold no data, and a browser
navigating to ``/console/`` sends no bearer token, so an authorizer there would lock reviewers
out of the very page that signs them in).
"""

from __future__ import annotations

from aws_cdk import Aws, Duration
from aws_cdk import aws_apigatewayv2 as apigwv2
from aws_cdk import aws_apigatewayv2_authorizers as authorizers
from aws_cdk import aws_cognito as cognito
from constructs import Construct

from infra.constructs.api import Api

REVIEWERS_GROUP = "reviewers"
# (path, methods): the reviewer-only routes of tray_agent.domain.auth.required_access.
REVIEWER_ROUTES: tuple[tuple[str, tuple[apigwv2.HttpMethod, ...]], ...] = (
    ("/reviews", (apigwv2.HttpMethod.ANY,)),
    ("/reviews/{proxy+}", (apigwv2.HttpMethod.ANY,)),
    ("/dead-letters", (apigwv2.HttpMethod.ANY,)),
    ("/dead-letters/{proxy+}", (apigwv2.HttpMethod.ANY,)),
    ("/work/{proxy+}", (apigwv2.HttpMethod.POST,)),  # release / cancel; reading work stays open to senders
    ("/po/intake/{intake_id}/rerun", (apigwv2.HttpMethod.POST,)),
    # The signed-in console calls every route under this prefix (tray_agent.domain.auth
    # SIGNED_IN_PREFIX, stripped by the resolver), so its reads carry verified claims too.
    ("/signed-in/{proxy+}", (apigwv2.HttpMethod.ANY,)),
)


class ReviewerSignIn(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, stage: str, api: Api) -> None:
        super().__init__(scope, construct_id)
        self.user_pool = cognito.UserPool(
            self,
            "UserPool",
            user_pool_name=f"tray-agent-{stage}-reviewers",
            self_sign_up_enabled=False,  # an administrator creates each reviewer (README)
            sign_in_aliases=cognito.SignInAliases(username=True, email=True),
            sign_in_case_sensitive=False,
            standard_attributes=cognito.StandardAttributes(
                email=cognito.StandardAttribute(required=True, mutable=True)
            ),
            auto_verify=cognito.AutoVerifiedAttrs(email=True),
            account_recovery=cognito.AccountRecovery.EMAIL_ONLY,
            password_policy=cognito.PasswordPolicy(
                min_length=14,
                require_lowercase=True,
                require_uppercase=True,
                require_digits=True,
                require_symbols=True,
                temp_password_validity=Duration.days(3),
            ),
            # Required, not optional: a reviewer's approval runs a Tray workflow (an order, a
            # refund), so a leaked password alone must not approve anything. TOTP (an
            # authenticator app, enrolled at first sign-in in the hosted UI), not SMS: no SMS
            # role, no per-message spend, no SIM-swap exposure.
            mfa=cognito.Mfa.REQUIRED,
            mfa_second_factor=cognito.MfaSecondFactor(otp=True, sms=False),
            # Threat protection (compromised-credential checks, adaptive authentication) needs the
            # Plus feature plan, billed per monthly active user: a few cents for a team of
            # reviewers, and it blocks risky sign-ins for the people who approve orders.
            feature_plan=cognito.FeaturePlan.PLUS,
            standard_threat_protection_mode=cognito.StandardThreatProtectionMode.FULL_FUNCTION,
        )
        self.group = self.user_pool.add_group(
            "ReviewersGroup",
            group_name=REVIEWERS_GROUP,
            description="People who may approve or reject reviews and act on held work",
        )
        prefix = self.node.try_get_context("cognito_domain_prefix") or f"tray-agent-{stage}-{Aws.ACCOUNT_ID}"
        self.domain = self.user_pool.add_domain(
            "HostedUi", cognito_domain=cognito.CognitoDomainOptions(domain_prefix=str(prefix))
        )
        self.callback_url = str(self.node.try_get_context("cognito_callback_url") or f"{api.url}/console/")
        self.client = self.user_pool.add_client(
            "ConsoleClient",
            user_pool_client_name=f"tray-agent-{stage}-console",
            generate_secret=False,  # a browser cannot keep a secret: authorization code + PKCE
            auth_flows=cognito.AuthFlow(user_srp=True),
            o_auth=cognito.OAuthSettings(
                flows=cognito.OAuthFlows(authorization_code_grant=True),
                scopes=[cognito.OAuthScope.OPENID, cognito.OAuthScope.EMAIL, cognito.OAuthScope.PROFILE],
                callback_urls=[self.callback_url],
                logout_urls=[self.callback_url],
            ),
            supported_identity_providers=[cognito.UserPoolClientIdentityProvider.COGNITO],
            prevent_user_existence_errors=True,
            id_token_validity=Duration.hours(1),
            access_token_validity=Duration.hours(1),
            refresh_token_validity=Duration.hours(12),  # one working day, then sign in again
        )
        self.hosted_ui_url = self.domain.sign_in_url(self.client, redirect_uri=self.callback_url)

        self.authorizer = authorizers.HttpUserPoolAuthorizer(
            "ReviewerAuthorizer",
            self.user_pool,
            user_pool_clients=[self.client],
            authorizer_name=f"tray-agent-{stage}-reviewers",
        )
        for path, methods in REVIEWER_ROUTES:
            api.http_api.add_routes(
                path=path, methods=list(methods), integration=api.integration, authorizer=self.authorizer
            )
        # What the API function needs: the claims decide (jwt), the console's Sign in button.
        self.environment = {
            "TRAY_AGENT_REVIEWER_AUTH": "jwt",
            "TRAY_AGENT_REVIEWER_GROUP": REVIEWERS_GROUP,
            "TRAY_AGENT_COGNITO_DOMAIN_URL": self.domain.base_url(),
            "TRAY_AGENT_COGNITO_CLIENT_ID": self.client.user_pool_client_id,
        }
