// Stylesheets are imported for their side effect: esbuild bundles them into dist/editor.css.
declare module "*.css";
