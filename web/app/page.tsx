'use client';

import { HomeView } from '../components/home-view';
import { RequireSignIn } from '../components/require-sign-in';

/** Home page (`/`). */
export default function HomePage() {
  return (
    <RequireSignIn>
      <HomeView />
    </RequireSignIn>
  );
}
