// dcmjs ships no type declarations; callers type the small surface they use.
declare module 'dcmjs';
