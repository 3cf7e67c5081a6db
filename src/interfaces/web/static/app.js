// Progressive enhancement only: every page works without this script (and without any
// script at all). Loaded as a module from this origin, as the Content-Security-Policy
// allows; no inline script or style anywhere.
import { enhancePasswordFields } from "./enhance/password.js";

enhancePasswordFields(document);
